package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

const fuzzBoundary = "fuzzboundary"

// FuzzParseRequest feeds arbitrary bodies, as JSON and as multipart, to
// the request parser of the swap and faces endpoints: it must never panic,
// every error must be a 400 or a 413, a parsed request must hold only
// values within the declared ranges, and the Warning header stays one
// printable line.
func FuzzParseRequest(f *testing.F) {
	f.Add([]byte(`{"source_img":"aGk=","target_img":"https://example.com/t.jpg","input_faces_index":"0,1,2","source_faces_index":"0,1,2","face_restore":"disable","interpolation":"Bilinear","detection_face_order":"left-right","facedetection":"retinaface_resnet50","detect_gender_input":"no","detect_gender_source":"no","face_restore_weight":0.75,"image_format":"jpeg","image_quality":95,"base64":false}`), false)
	f.Add([]byte(`{"source_img":null,"target_img":"x","image_quality":1e400,"unknown\u0000":1}`), false)
	f.Add([]byte(`[{"a":1}]`), false)
	f.Add([]byte(`{"image":"data:image/png;base64,AAAA","detect_gender":"female"}`), false)
	f.Add([]byte("--"+fuzzBoundary+"\r\nContent-Disposition: form-data; name=\"source_img\"; filename=\"s.png\"\r\n\r\nPNG\r\n--"+
		fuzzBoundary+"\r\nContent-Disposition: form-data; name=\"image_quality\"\r\n\r\n80\r\n--"+
		fuzzBoundary+"\r\nContent-Disposition: form-data; name=\"base64\"\r\n\r\ntrue\r\n--"+fuzzBoundary+"--\r\n"), true)
	f.Add([]byte("--"+fuzzBoundary+"\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n"), true)
	f.Add([]byte(`"aGk="`), false)
	f.Add([]byte(" \"\xff\" "), false)
	f.Fuzz(func(t *testing.T, body []byte, multi bool) {
		// A string without escapes is taken as it stands: the same as decoding it.
		if s, ok := plainString(body); ok {
			var want string
			if err := json.Unmarshal(body, &want); err != nil || s != want {
				t.Fatalf("plainString(%q) = %q; json: %q, %v", body, s, want, err)
			}
		}
		for _, specs := range [][]fieldSpec{swapFields, facesFields} {
			r := httptest.NewRequest("POST", "/v1/faceswap-v3-multifaceswap", bytes.NewReader(body))
			if multi {
				r.Header.Set("Content-Type", "multipart/form-data; boundary="+fuzzBoundary)
			} else {
				r.Header.Set("Content-Type", "application/json")
			}
			form, err := parseForm(httptest.NewRecorder(), r, 4096, 1024, specs)
			checkParsed(t, specs, form, err)
		}
	})
}

// checkParsed checks what parseForm made of a fuzzed body: values within
// their declared ranges, file parts within the image limit (1024 in the
// fuzz targets), a one-line Warning header, and errors that are 400 or 413.
func checkParsed(t *testing.T, specs []fieldSpec, form *form, err error) {
	t.Helper()
	if err == nil {
		for name, v := range form.values {
			spec, _ := specOf(specs, name)
			if (spec.kind == intField || spec.kind == numberField) && (v.num < spec.min || v.num > spec.max) {
				t.Fatalf("%s = %v outside [%v, %v]", name, v.num, spec.min, spec.max)
			}
			if v.file && len(v.data) > 1024 {
				t.Fatalf("%s: %d bytes over the image limit", name, len(v.data))
			}
		}
		if w := warning(form.unknown); strings.ContainsAny(w, "\r\n\x00") {
			t.Fatalf("Warning %q", w)
		}
		if specs[0].name == "source_img" {
			_, err = parseSwap(form)
		}
	}
	if err != nil {
		if st := statusOf(err); st != 400 && st != 413 {
			t.Fatalf("status %d for %v", st, err)
		}
	}
}

// FuzzMultipart feeds arbitrary Content-Type headers and bodies to the
// multipart/form-data reader (boundaries, part headers, file and text
// parts, repeated and unknown fields), with the checks of FuzzParseRequest.
func FuzzMultipart(f *testing.F) {
	part := func(b, name, file, data string) string {
		h := "Content-Disposition: form-data; name=\"" + name + "\""
		if file != "" {
			h += "; filename=\"" + file + "\"\r\nContent-Type: image/jpeg"
		}
		return "--" + b + "\r\n" + h + "\r\n\r\n" + data + "\r\n"
	}
	ct := "multipart/form-data; boundary="
	f.Add(ct+"b", part("b", "source_img", "s.jpg", "\xff\xd8\xff")+part("b", "target_img", "", "aGk=")+part("b", "input_faces_index", "", "0,1")+"--b--\r\n")
	f.Add(ct+"\"a b\"", part("a b", "image_quality", "", " 80 ")+part("a b", "base64", "", "TRUE")+part("a b", "x", "", "")+"--a b--")
	f.Add(ct+"b", part("b", "source_img", "s", strings.Repeat("A", 1100))+"--b--")
	f.Add(ct+"b", part("b", "face_restore_weight", "", "1e400")+part("b", "face_restore_weight", "", "NaN")+"--b--")
	f.Add("multipart/form-data", "--b\r\n\r\n--b--")
	f.Add(ct+"b; charset=utf-8", "--b\r\nContent-Disposition: form-data; name*=UTF-8''%E2%82%AC\r\n\r\nx\r\n--b--")
	f.Add(ct+"b", "--b\r\nContent-Disposition: form-data; name=\"detection_face_order\"\r\n\r\n\xff\xfe\r\n--b--")
	f.Fuzz(func(t *testing.T, contentType, body string) {
		for _, specs := range [][]fieldSpec{swapFields, facesFields} {
			r := httptest.NewRequest("POST", "/v1/faceswap-v3-multifaceswap", strings.NewReader(body))
			r.Header.Set("Content-Type", contentType)
			form, err := parseForm(httptest.NewRecorder(), r, 4096, 1024, specs)
			checkParsed(t, specs, form, err)
		}
	})
}
