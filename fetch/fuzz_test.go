package fetch

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"

	"faceswap"
)

// FuzzResolve feeds arbitrary field values to Resolve. URLs go to a stub
// fetcher (no network); data URIs and base64 are decoded for real. Resolve
// must not panic, must respect the limit, must name the field in every
// error, and must agree with the standard library on valid standard base64.
func FuzzResolve(f *testing.F) {
	for _, s := range []string{
		"", "   ", "QUJD", "QUJDRA==", "QUJDRA", "_-8=", "ab+c-_==", "====",
		"data:image/png;base64,iVBORw0KGgo=", "data:image/png;base64", "data:,", "data:text/plain;base64,QQ==",
		"DATA:IMAGE/JPEG;BASE64,/9j/4AAQ", "data:image/png;base64,QU\nJD\r\nRA==",
		"http://127.0.0.1/", "https://example.com/a.jpg", "ftp://x/", "file:///etc/passwd", "C:\\a.jpg",
		strings.Repeat("A", 400), strings.Repeat("!", 400),
	} {
		f.Add(s, int64(100))
	}
	f.Fuzz(func(t *testing.T, value string, max int64) {
		if max > 1<<16 {
			max = 1 << 16
		}
		limit := max
		if limit <= 0 {
			limit = DefaultMaxBytes
		}
		stub := &stubFetcher{data: []byte(value)} // the URL itself as the "image": sometimes over the limit
		data, err := Resolve(context.Background(), stub, "source_img", value, max)
		if len(stub.urls) > 0 {
			scheme, _, _ := splitScheme(strings.TrimSpace(value))
			if s := strings.ToLower(scheme); s != "http" && s != "https" {
				t.Fatalf("%q: fetcher called though the scheme is %q", value, scheme)
			}
		}
		if err != nil {
			var fe *faceswap.Error
			if !errors.As(err, &fe) {
				t.Fatalf("%q: error %v is not a *faceswap.Error", value, err)
			}
			switch fe.Status {
			case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusBadGateway:
			default:
				t.Fatalf("%q: status %d", value, fe.Status)
			}
			if !strings.Contains(fe.Message, "source_img") {
				t.Fatalf("%q: message %q does not name the field", value, fe.Message)
			}
			if data != nil {
				t.Fatalf("%q: data with an error", value)
			}
			return
		}
		if len(data) == 0 || int64(len(data)) > limit {
			t.Fatalf("%q: %d bytes decoded, limit %d", value, len(data), limit)
		}
		// Valid standard base64 (whitespace removed) decodes to what the
		// standard library says.
		clean := strings.Map(dropASCIISpace, strings.TrimSpace(value))
		if want, err := base64.StdEncoding.DecodeString(clean); err == nil && len(want) > 0 {
			if !bytes.Equal(data, want) {
				t.Fatalf("%q: decoded %x, want %x", value, data, want)
			}
		}
	})
}

// FuzzDecodeBase64 checks the decoder against the standard library: no
// panic; never more than the limit; whatever the standard library decodes
// (standard or URL-safe, padded or raw) this decodes the same, or refuses it
// as too large exactly when it is over the limit.
func FuzzDecodeBase64(f *testing.F) {
	for _, s := range []string{"", "QQ", "QQ==", "QUI=", "QUJD", "QUJ\nD", " Q U J D ", "_-8", "+/8=", "a===", "=QQ", "QQ=\n="} {
		f.Add(s, int64(3))
	}
	f.Fuzz(func(t *testing.T, s string, max int64) {
		if max < 0 {
			max = -max
		}
		if max < 0 || max > 1<<16 {
			max = 1 << 16
		}
		data, err := decodeBase64(s, max)
		if err == nil && int64(len(data)) > max {
			t.Fatalf("%q: %d bytes, limit %d", s, len(data), max)
		}
		clean := strings.Map(dropASCIISpace, s)
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			want, werr := enc.DecodeString(clean)
			if werr != nil {
				continue
			}
			if int64(len(want)) > max {
				if !errors.Is(err, errTooLarge) {
					t.Fatalf("%q: %d bytes over limit %d, got %v", s, len(want), max, err)
				}
				continue
			}
			if err != nil || !bytes.Equal(data, want) {
				t.Fatalf("%q: got %x, %v; the standard library decodes %x", s, data, err, want)
			}
		}
		if errors.Is(err, errTooLarge) && decodedLen(int64(len(strings.ReplaceAll(clean, "=", "")))) <= max {
			t.Fatalf("%q: refused as too large under the limit %d", s, max)
		}
	})
}

func dropASCIISpace(r rune) rune {
	switch r {
	case ' ', '\t', '\n', '\r', '\f', '\v':
		return -1
	}
	return r
}
