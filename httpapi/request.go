package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"faceswap"
)

// kind is the type of a request field.
type kind uint8

const (
	textField   kind = iota // a string
	imageField              // a URL, data URI or base64 string; in multipart also a file part
	indexField              // an index list: a string such as "0,1,2" (a bare integer is accepted too)
	intField                // an integer within [min, max]
	numberField             // a number within [min, max]
	boolField               // true or false
)

// fieldSpec describes one field an endpoint reads.
type fieldSpec struct {
	name     string
	kind     kind
	min, max float64 // for intField and numberField
}

// value is one field as the client sent it.
type value struct {
	text string  // textField, indexField, and imageField given as a string
	data []byte  // imageField given as a multipart file part
	file bool    // data holds the image
	num  float64 // intField, numberField
	bool bool    // boolField
}

// form is a parsed request body: the known fields that were given (JSON
// nulls and empty multipart parts count as not given) and the names of
// unknown ones, sorted.
type form struct {
	values  map[string]value
	unknown []string
}

func (f *form) has(name string) bool { _, ok := f.values[name]; return ok }

// parseForm reads the body of r, JSON or multipart/form-data, as the fields
// of specs. The body is limited to maxBody bytes (a *http.MaxBytesError
// beyond, which is a 413) and a multipart file part to maxImage bytes (a
// 413 naming the field). Every other problem is a 400 with a message that
// says what is wrong.
func parseForm(w http.ResponseWriter, r *http.Request, maxBody, maxImage int64, specs []fieldSpec) (*form, error) {
	body := http.MaxBytesReader(w, r.Body, maxBody)
	defer body.Close()
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "multipart/form-data" {
		return parseMultipart(body, params["boundary"], maxImage, specs)
	}
	return parseJSON(body, specs)
}

func specOf(specs []fieldSpec, name string) (fieldSpec, bool) {
	for _, s := range specs {
		if s.name == name {
			return s, true
		}
	}
	return fieldSpec{}, false
}

func parseJSON(body io.Reader, specs []fieldSpec) (*form, error) {
	data, err := io.ReadAll(body)
	if err != nil {
		return nil, readError(err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, faceswap.Errorf(http.StatusBadRequest, "The request body is empty; send a JSON object (or multipart/form-data) with source_img and target_img.")
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		var (
			se *json.SyntaxError
			te *json.UnmarshalTypeError
		)
		switch {
		case errors.As(err, &se):
			return nil, faceswap.Wrap(http.StatusBadRequest, err, "The request body is not valid JSON: %s.", syntaxProblem(data, se.Offset))
		case errors.As(err, &te):
			return nil, faceswap.Wrap(http.StatusBadRequest, err, "The request body must be a JSON object, not %s.", te.Value)
		}
		return nil, faceswap.Wrap(http.StatusBadRequest, err, "The request body is not valid JSON.")
	}
	if obj == nil { // the body was "null"
		return nil, faceswap.Errorf(http.StatusBadRequest, "The request body must be a JSON object, not null.")
	}
	f := &form{values: map[string]value{}}
	for name, raw := range obj {
		spec, ok := specOf(specs, name)
		if !ok {
			f.unknown = append(f.unknown, name)
			continue
		}
		if string(raw) == "null" {
			continue
		}
		v, err := jsonValue(spec, raw)
		if err != nil {
			return nil, err
		}
		if spec.kind == imageField && v.text == "" {
			continue // an empty image field is a missing one
		}
		f.values[name] = v
	}
	sort.Strings(f.unknown)
	return f, nil
}

// maxJSONDepth is how deep encoding/json lets arrays and objects nest.
const maxJSONDepth = 10000

// syntaxProblem says in the API's words where data, which encoding/json
// refused after reading offset bytes, stops being JSON: it ends early (the
// decoder's io.ErrUnexpectedEOF), it nests deeper than the decoder goes, or
// byte offset (counting from 1) breaks the syntax. The decoder's own words
// go to the log.
func syntaxProblem(data []byte, offset int64) string {
	var v json.RawMessage
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&v); errors.Is(err, io.ErrUnexpectedEOF) {
		return "it ends before the JSON value does"
	}
	depth, inString, escaped := 0, false, false
	for _, c := range data[:min(offset, int64(len(data)))] {
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case inString:
		case c == '[' || c == '{':
			if depth++; depth > maxJSONDepth {
				return fmt.Sprintf("it nests arrays or objects more than %d deep", maxJSONDepth)
			}
		case c == ']' || c == '}':
			depth--
		}
	}
	return fmt.Sprintf("it breaks JSON's syntax at byte %d", offset)
}

// jsonValue reads one JSON field.
func jsonValue(spec fieldSpec, raw json.RawMessage) (value, error) {
	var (
		s string
		n float64
		b bool
	)
	// The first byte says what the value is, so it is decoded once: an
	// image field's base64 is most of the body.
	var isString, isNumber, isBool bool
	switch c := firstByte(raw); {
	case c == '"':
		if s, isString = plainString(raw); !isString {
			isString = json.Unmarshal(raw, &s) == nil
		}
	case c == 't' || c == 'f':
		isBool = json.Unmarshal(raw, &b) == nil
	case c == '-' || '0' <= c && c <= '9':
		isNumber = json.Unmarshal(raw, &n) == nil
	}
	switch spec.kind {
	case textField, imageField:
		if isString {
			return value{text: s}, nil
		}
		return value{}, faceswap.Errorf(http.StatusBadRequest, "%s must be a string.", spec.name)
	case indexField:
		if isString {
			return value{text: s}, nil
		}
		if isNumber && n >= 0 && n == math.Trunc(n) && n < 1e9 {
			return value{text: strconv.Itoa(int(n))}, nil
		}
		return value{}, faceswap.Errorf(http.StatusBadRequest, "%s must be a string of comma-separated face indices such as \"0,1,2\".", spec.name)
	case intField, numberField:
		if isNumber {
			return numberValue(spec, n, sanitize(string(raw), 40))
		}
		return value{}, rangeError(spec, "")
	case boolField:
		if isBool {
			return value{bool: b}, nil
		}
		return value{}, faceswap.Errorf(http.StatusBadRequest, "%s must be true or false.", spec.name)
	}
	return value{}, fmt.Errorf("httpapi: field %s has unknown kind %d", spec.name, spec.kind)
}

// firstByte is the first byte of a JSON value that is not white space, or 0.
func firstByte(raw []byte) byte {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return 0
	}
	return raw[0]
}

// plainString returns the JSON string raw holds when it has no escapes,
// without decoding it again: the body as a whole was already checked to be
// valid JSON, so such a string is its bytes between the quotes (when they
// are valid UTF-8; otherwise the decoder's replacement is needed).
func plainString(raw []byte) (string, bool) {
	raw = bytes.Trim(raw, " \t\r\n") // JSON's white space, and no other
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	in := raw[1 : len(raw)-1]
	if bytes.IndexByte(in, '\\') >= 0 || bytes.IndexByte(in, '"') >= 0 || !utf8.Valid(in) {
		return "", false
	}
	for _, c := range in {
		if c < 0x20 {
			return "", false
		}
	}
	return string(in), true
}

// numberValue checks a number against spec; shown is how the client wrote
// it, already safe to echo.
func numberValue(spec fieldSpec, n float64, shown string) (value, error) {
	if math.IsNaN(n) || math.IsInf(n, 0) || n < spec.min || n > spec.max || spec.kind == intField && n != math.Trunc(n) {
		return value{}, rangeError(spec, shown)
	}
	return value{num: n}, nil
}

func rangeError(spec fieldSpec, shown string) error {
	what := "a number"
	if spec.kind == intField {
		what = "an integer"
	}
	got := ""
	if shown != "" {
		got = ", got " + shown
	}
	return faceswap.Errorf(http.StatusBadRequest, "%s must be %s from %g to %g%s.", spec.name, what, spec.min, spec.max, got)
}

// textValue reads one multipart text part.
func textValue(spec fieldSpec, s string) (value, error) {
	switch spec.kind {
	case intField, numberField:
		t := strings.TrimSpace(s)
		n, err := strconv.ParseFloat(t, 64)
		if err != nil {
			return value{}, rangeError(spec, strconv.Quote(sanitize(t, 30)))
		}
		return numberValue(spec, n, sanitize(t, 40))
	case boolField:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true":
			return value{bool: true}, nil
		case "false":
			return value{bool: false}, nil
		}
		return value{}, faceswap.Errorf(http.StatusBadRequest, "%s must be true or false.", spec.name)
	}
	return value{text: s}, nil
}

func parseMultipart(body io.Reader, boundary string, maxImage int64, specs []fieldSpec) (*form, error) {
	if boundary == "" {
		return nil, faceswap.Errorf(http.StatusBadRequest, "The multipart/form-data Content-Type has no boundary.")
	}
	mr := multipart.NewReader(body, boundary)
	f := &form{values: map[string]value{}}
	seen := map[string]bool{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, multipartError(err)
		}
		name := p.FormName()
		spec, known := specOf(specs, name)
		if !known {
			if name != "" && !seen[name] {
				f.unknown = append(f.unknown, name)
				seen[name] = true
			}
			if _, err := io.Copy(io.Discard, p); err != nil {
				return nil, multipartError(err)
			}
			continue
		}
		if spec.kind == imageField && p.FileName() != "" {
			data, err := io.ReadAll(io.LimitReader(p, maxImage+1))
			if err != nil {
				return nil, multipartError(err)
			}
			if int64(len(data)) > maxImage {
				return nil, faceswap.Errorf(http.StatusRequestEntityTooLarge, "%s is over the server's limit of %s per image.", name, faceswap.FormatBytes(maxImage))
			}
			if len(data) > 0 {
				f.values[name] = value{data: data, file: true}
			}
			continue
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return nil, multipartError(err)
		}
		if !utf8.Valid(data) {
			return nil, faceswap.Errorf(http.StatusBadRequest, "The multipart part %s is not UTF-8 text; send images as file parts (with a filename).", name)
		}
		if len(data) == 0 && (spec.kind == imageField || spec.kind == intField || spec.kind == numberField || spec.kind == boolField) {
			continue
		}
		v, err := textValue(spec, string(data))
		if err != nil {
			return nil, err
		}
		f.values[name] = v
	}
	sort.Strings(f.unknown)
	return f, nil
}

// bodyError is the answer to a body that failed to read: a body over its
// limit (http.MaxBytesError) and one sent too slowly keep their own
// statuses, anything else is a 400 with message.
func bodyError(err error, message string) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return err
	}
	if slow, ok := slowBodyError(err); ok {
		return slow
	}
	return &faceswap.Error{Status: http.StatusBadRequest, Message: message, Err: err}
}

func multipartError(err error) error {
	return bodyError(err, "The multipart/form-data body is malformed.")
}

func readError(err error) error { return bodyError(err, "The request body could not be read.") }

// warning renders the Warning header for unknown fields (RFC 7234 §5.5,
// warn-code 299), or "" when there are none.
func warning(unknown []string) string {
	if len(unknown) == 0 {
		return ""
	}
	const most = 20
	names := make([]string, 0, min(len(unknown), most))
	for i, n := range unknown {
		if i == most {
			break
		}
		names = append(names, sanitize(n, 64))
	}
	list := strings.Join(names, ", ")
	if len(unknown) > most {
		list += fmt.Sprintf(" and %d more", len(unknown)-most)
	}
	return `299 - "unknown fields ignored: ` + list + `"`
}
