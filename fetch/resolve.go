package fetch

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"

	"faceswap"
)

// Resolve turns the value of an image field of a request (SPEC §2: an http(s)
// URL, a data URI, or raw base64) into the image bytes, at most maxBytes of
// them (maxBytes <= 0 means DefaultMaxBytes).
//
//   - An http or https URL is fetched with f (a nil f refuses URLs).
//   - A data URI "data:image/...;base64,..." is decoded.
//   - Anything else is raw base64: the standard or URL-safe alphabet, with or
//     without padding, whitespace and newlines ignored.
//
// The size of base64 data is checked before it is decoded. Every error is a
// *faceswap.Error whose public message names field (a fetcher's, which
// speaks of "the URL", through faceswap.InField): 400 for an empty, malformed or
// refused value, 413 for data over maxBytes, and the fetcher's status (502,
// 504, ...) for a URL that could not be fetched.
func Resolve(ctx context.Context, f faceswap.Fetcher, field, value string, maxBytes int64) ([]byte, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	v := strings.TrimSpace(value)
	if v == "" {
		return nil, faceswap.Errorf(http.StatusBadRequest, "%s is empty.", field)
	}
	scheme, rest, isURI := splitScheme(v)
	switch {
	case !isURI:
		return decodeField(field, v, maxBytes, false)
	case strings.EqualFold(scheme, "data"):
		return decodeDataURI(field, rest, maxBytes)
	case strings.EqualFold(scheme, "http"), strings.EqualFold(scheme, "https"):
		return fetchField(ctx, f, field, v, maxBytes)
	}
	return nil, faceswap.Errorf(http.StatusBadRequest,
		"%s uses %s; give an http or https URL, a data URI or base64.", field, describeScheme(scheme))
}

// splitScheme splits "scheme:rest". Base64 never contains ':', so a value
// that starts with a syntactically valid scheme and a colon is a URI.
func splitScheme(v string) (scheme, rest string, ok bool) {
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':':
			return v[:i], v[i+1:], true
		default:
			return "", "", false
		}
	}
	return "", "", false
}

func fetchField(ctx context.Context, f faceswap.Fetcher, field, rawURL string, maxBytes int64) ([]byte, error) {
	if f == nil {
		return nil, faceswap.Errorf(http.StatusBadRequest,
			"%s is a URL, but this server does not fetch URLs; send the image as base64.", field)
	}
	data, err := f.Fetch(ctx, rawURL)
	if err != nil {
		var fe *faceswap.Error
		if errors.As(err, &fe) {
			return nil, faceswap.InField(field, fe)
		}
		return nil, faceswap.Wrap(http.StatusBadGateway, err, "The URL of %s could not be fetched.", field)
	}
	if int64(len(data)) > maxBytes {
		return nil, faceswap.Errorf(http.StatusRequestEntityTooLarge,
			"The image at the URL of %s is over the %s limit.", field, faceswap.FormatBytes(maxBytes))
	}
	if len(data) == 0 {
		return nil, faceswap.Errorf(http.StatusBadGateway,
			"The URL of %s could not be fetched: the server answered with an empty body.", field)
	}
	return data, nil
}

// decodeDataURI decodes the part of a data URI after "data:":
// [<media type>][;params];base64,<data>.
func decodeDataURI(field, rest string, maxBytes int64) ([]byte, error) {
	meta, payload, ok := strings.Cut(rest, ",")
	if !ok {
		return nil, faceswap.Errorf(http.StatusBadRequest,
			"%s is a data URI without the comma before its data.", field)
	}
	params := strings.Split(meta, ";")
	mediaType := strings.ToLower(strings.TrimSpace(params[0]))
	if !strings.EqualFold(strings.TrimSpace(params[len(params)-1]), "base64") || len(params) < 2 {
		return nil, faceswap.Errorf(http.StatusBadRequest,
			"%s is a data URI that is not base64; use data:image/...;base64,...", field)
	}
	if mediaType != "" && !strings.HasPrefix(mediaType, "image/") && mediaType != "application/octet-stream" {
		what := "a data URI of another type than an image"
		if len(mediaType) <= 64 && !strings.ContainsFunc(mediaType, func(r rune) bool { return r < ' ' || r > '~' }) {
			what = "a data URI of type " + mediaType + ", not an image"
		}
		return nil, faceswap.Errorf(http.StatusBadRequest, "%s is %s.", field, what)
	}
	return decodeField(field, payload, maxBytes, true)
}

// decodeField decodes base64 for field, with public errors.
func decodeField(field, s string, maxBytes int64, dataURI bool) ([]byte, error) {
	data, err := decodeBase64(s, maxBytes)
	switch {
	case errors.Is(err, errTooLarge):
		return nil, faceswap.Wrap(http.StatusRequestEntityTooLarge, err,
			"%s is over the %s limit.", field, faceswap.FormatBytes(maxBytes))
	case err != nil && dataURI:
		return nil, faceswap.Wrap(http.StatusBadRequest, err,
			"%s is a data URI whose data is not valid base64.", field)
	case err != nil:
		return nil, faceswap.Wrap(http.StatusBadRequest, err,
			"%s is not an http(s) URL, a data URI or valid base64.", field)
	case len(data) == 0:
		return nil, faceswap.Errorf(http.StatusBadRequest, "%s is empty.", field)
	}
	return data, nil
}

var (
	errTooLarge = errors.New("base64: decoded data over the limit")
	errPadding  = errors.New("base64: wrong padding")
)

// decodeBase64 decodes standard or URL-safe base64, padded or not, ignoring
// ASCII whitespace. It counts the data characters and refuses, with
// errTooLarge, data that would decode to more than maxBytes before
// allocating or decoding anything.
func decodeBase64(s string, maxBytes int64) ([]byte, error) {
	var n, ws int64 // data characters (not whitespace, not '='), whitespace
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\r', '\f', '\v':
			ws++
		case '=':
		default:
			n++
		}
	}
	if decodedLen(n) > maxBytes {
		return nil, errTooLarge
	}
	clean := make([]byte, 0, int64(len(s))-ws)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\n', '\r', '\f', '\v':
		default:
			clean = append(clean, c)
		}
	}
	// Padding: none, or exactly what the length calls for.
	body := bytes.TrimRight(clean, "=")
	if pad := len(clean) - len(body); pad > 0 && (len(body)+pad)%4 != 0 || pad > 2 {
		return nil, errPadding
	}
	enc := base64.RawStdEncoding
	if bytes.ContainsAny(body, "-_") {
		enc = base64.RawURLEncoding
	}
	out := make([]byte, enc.DecodedLen(len(body)))
	m, err := enc.Decode(out, body)
	if err != nil {
		return nil, err
	}
	return out[:m], nil
}

// decodedLen is the number of bytes n base64 data characters decode to.
func decodedLen(n int64) int64 { return n/4*3 + n%4*3/4 }
