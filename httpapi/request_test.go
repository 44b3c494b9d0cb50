package httpapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"faceswap"
	"faceswap/cpu"
)

func jsonRequest(body string) *http.Request {
	r := httptest.NewRequest("POST", "/v1/faceswap-v3-multifaceswap", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return r
}

func parseSwapBody(t *testing.T, r *http.Request, maxBody, maxImage int64) (*swapRequest, *form, error) {
	t.Helper()
	f, err := parseForm(httptest.NewRecorder(), r, maxBody, maxImage, swapFields)
	if err != nil {
		return nil, nil, err
	}
	s, err := parseSwap(f)
	return s, f, err
}

// statusOf is the status the API would answer for err.
func statusOf(err error) int {
	a := &API{opt: Options{Deadline: time.Minute}}
	st, _ := a.classify(err, "test")
	return st
}

// TestParseJSONFields: every field reaches the pipeline request with its
// type checked; absent and null fields take the defaults.
func TestParseJSONFields(t *testing.T) {
	s, f, err := parseSwapBody(t, jsonRequest(`{
		"source_img": "https://example.com/s.jpg", "target_img": "aGVsbG8=",
		"input_faces_index": "0,1,2", "source_faces_index": 2,
		"detection_face_order": "LEFT-RIGHT", "detect_gender_input": "Female", "detect_gender_source": "male",
		"face_restore": "disable", "face_restore_weight": 0, "facedetection": "YOLOv5n",
		"interpolation": "lanczos", "image_format": "PNG", "image_quality": 1e1, "base64": true,
		"swap_model": "mesh", "zzz": [1], "aaa": null}`), 1<<20, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	r := s.req
	got := fmt.Sprintf("%q %q %q %q %q %q %q %v %q %q %q %d %q %v",
		s.source.text, s.target.text, r.InputFacesIndex, r.SourceFacesIndex, r.DetectionFaceOrder, r.DetectGenderInput,
		r.DetectGenderSource, r.FaceRestoreWeight, r.FaceDetection, r.Interpolation, r.ImageFormat, r.ImageQuality, r.SwapModel, s.base64)
	want := `"https://example.com/s.jpg" "aGVsbG8=" "0,1,2" "2" "LEFT-RIGHT" "Female" "male" 0 "YOLOv5n" "lanczos" "PNG" 10 "mesh" true`
	if got != want || r.FaceRestore != "disable" {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if strings.Join(f.unknown, ",") != "aaa,zzz" {
		t.Errorf("unknown %v", f.unknown)
	}

	s, _, err = parseSwapBody(t, jsonRequest(`{"source_img":"a","target_img":"b","image_quality":null,"base64":null}`), 1<<20, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if s.req.FaceRestoreWeight != 0.75 || s.req.ImageQuality != 95 || s.base64 || s.req.InputFacesIndex != "" {
		t.Errorf("defaults: %+v base64=%v", s.req, s.base64)
	}
}

// TestParseJSONErrors: each malformed body or field is a 400 (or 413) with
// a message naming the problem.
func TestParseJSONErrors(t *testing.T) {
	for _, c := range []struct {
		body   string
		status int
		msg    string
	}{
		{`{"source_img":`, 400, "The request body is not valid JSON: it ends before the JSON value does."},
		{`{"source_img": "a"} {"x":1}`, 400, "not valid JSON"},
		{`nope`, 400, "not valid JSON: it breaks JSON's syntax at byte 2."},
		{`{"source_img": "a\"[[", "x": ]}`, 400, "not valid JSON: it breaks JSON's syntax at byte 30."},
		{`"a string"`, 400, "must be a JSON object, not string"},
		{`null`, 400, "must be a JSON object, not null"},
		{`   `, 400, "The request body is empty"},
		{`{}`, 400, "source_img is required"},
		{`{"source_img":"a"}`, 400, "target_img is required"},
		{`{"source_img":"","target_img":"b"}`, 400, "source_img is required"},
		{`{"source_img":1,"target_img":"b"}`, 400, "source_img must be a string."},
		{`{"source_img":"a","target_img":"b","image_quality":"95"}`, 400, "image_quality must be an integer from 10 to 100."},
		{`{"source_img":"a","target_img":"b","image_quality":0}`, 400, "image_quality must be an integer from 10 to 100, got 0."},
		{`{"source_img":"a","target_img":"b","image_quality":101}`, 400, "got 101."},
		{`{"source_img":"a","target_img":"b","image_quality":50.5}`, 400, "got 50.5."},
		{`{"source_img":"a","target_img":"b","face_restore_weight":-0.1}`, 400, "face_restore_weight must be a number from 0 to 1, got -0.1."},
		{`{"source_img":"a","target_img":"b","face_restore_weight":"0.5"}`, 400, "face_restore_weight must be a number from 0 to 1."},
		{`{"source_img":"a","target_img":"b","base64":"true"}`, 400, "base64 must be true or false."},
		{`{"source_img":"a","target_img":"b","base64":1}`, 400, "base64 must be true or false."},
		{`{"source_img":"a","target_img":"b","input_faces_index":-1}`, 400, "input_faces_index must be a string of comma-separated face indices"},
		{`{"source_img":"a","target_img":"b","input_faces_index":[0,1]}`, 400, "input_faces_index must be a string"},
		{`{"source_img":"a","target_img":"b","image_format":["png"]}`, 400, "image_format must be a string."},
		{`{"source_img":"a","target_img":"b","pad":"` + strings.Repeat("x", 2000) + `"}`, 413, "over the server's limit of 1 KB"},
	} {
		_, _, err := parseSwapBody(t, jsonRequest(c.body), 1024, 1024)
		if statusOf(err) != c.status || !strings.Contains(publicMessage(err), c.msg) {
			t.Errorf("%.60s: %d %q, want %d %q", c.body, statusOf(err), publicMessage(err), c.status, c.msg)
		}
	}
}

// TestJSONSyntaxInOwnWords: a body that is not JSON is told in the API's
// words, never encoding/json's: where it breaks, that it ends early, or
// that it nests too deep (brackets inside strings do not count).
func TestJSONSyntaxInOwnWords(t *testing.T) {
	for _, c := range []struct{ body, msg string }{
		{`{"a": ` + strings.Repeat(`[`, 10_001) + `]}`, "The request body is not valid JSON: it nests arrays or objects more than 10000 deep."},
		{`{"a": ` + strings.Repeat(`["[{\"",`, 9_990) + `1 2]}`, "The request body is not valid JSON: it breaks JSON's syntax at byte"},
		{`{"a": 1,}`, "The request body is not valid JSON: it breaks JSON's syntax at byte 9."},
		{`{"a": "unterminated`, "The request body is not valid JSON: it ends before the JSON value does."},
	} {
		_, _, err := parseSwapBody(t, jsonRequest(c.body), 1<<20, 1<<20)
		msg := publicMessage(err)
		if statusOf(err) != 400 || !strings.HasPrefix(msg, c.msg) || strings.Contains(msg, "invalid character") || strings.Contains(msg, "max depth") {
			t.Errorf("%.40s: %d %q, want 400 %q", c.body, statusOf(err), msg, c.msg)
		}
	}
}

func publicMessage(err error) string {
	if err == nil {
		return ""
	}
	_, msg := (&API{opt: Options{Deadline: time.Minute}}).classify(err, "test")
	return msg
}

type part struct {
	name, file, content string
}

func multipartRequest(t testing.TB, parts ...part) *http.Request {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, p := range parts {
		var err error
		if p.file != "" {
			w, e := mw.CreateFormFile(p.name, p.file)
			if e == nil {
				_, e = w.Write([]byte(p.content))
			}
			err = e
		} else {
			err = mw.WriteField(p.name, p.content)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	mw.Close()
	r := httptest.NewRequest("POST", "/v1/faceswap-v3-multifaceswap", &b)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	return r
}

// TestParseMultipart: file parts hold images, text parts the rest
// (numbers and booleans as text), unknown parts are listed.
func TestParseMultipart(t *testing.T) {
	s, f, err := parseSwapBody(t, multipartRequest(t,
		part{"source_img", "s.png", "PNGDATA"},
		part{"target_img", "", "https://example.com/t.jpg"},
		part{"image_quality", "", " 80 "},
		part{"face_restore_weight", "", "0.25"},
		part{"base64", "", "TRUE"},
		part{"input_faces_index", "", "1,0"},
		part{"extra", "", "x"},
		part{"extra", "", "y"},
	), 1<<20, 1<<10)
	if err != nil {
		t.Fatal(err)
	}
	if !s.source.file || string(s.source.data) != "PNGDATA" || s.target.file || s.target.text != "https://example.com/t.jpg" {
		t.Errorf("images %+v %+v", s.source, s.target)
	}
	if s.req.ImageQuality != 80 || s.req.FaceRestoreWeight != 0.25 || !s.base64 || s.req.InputFacesIndex != "1,0" {
		t.Errorf("fields %+v base64=%v", s.req, s.base64)
	}
	if strings.Join(f.unknown, ",") != "extra" {
		t.Errorf("unknown %v", f.unknown)
	}
	for _, c := range []struct {
		parts  []part
		status int
		msg    string
	}{
		{[]part{{"source_img", "s.png", strings.Repeat("x", 2000)}, {"target_img", "t.png", "x"}}, 413, "source_img is over the server's limit of 1 KB per image."},
		{[]part{{"source_img", "s.png", "x"}}, 400, "target_img is required"},
		{[]part{{"source_img", "s.png", "x"}, {"target_img", "t.png", "x"}, {"base64", "", "yes"}}, 400, "base64 must be true or false."},
		{[]part{{"source_img", "s.png", "x"}, {"target_img", "t.png", "x"}, {"image_quality", "", "high"}}, 400, `image_quality must be an integer from 10 to 100, got "high".`},
		{[]part{{"source_img", "s.png", "x"}, {"target_img", "t.png", "x"}, {"face_restore_weight", "", "NaN"}}, 400, "face_restore_weight must be a number from 0 to 1"},
		{[]part{{"source_img", "s.png", "x"}, {"target_img", "t.png", "x"}, {"interpolation", "", "\xff\xfe"}}, 400, "not UTF-8 text"},
	} {
		_, _, err := parseSwapBody(t, multipartRequest(t, c.parts...), 1<<20, 1<<10)
		if statusOf(err) != c.status || !strings.Contains(publicMessage(err), c.msg) {
			t.Errorf("%v: %d %q, want %d %q", c.parts[len(c.parts)-1].name, statusOf(err), publicMessage(err), c.status, c.msg)
		}
	}
	// A body over the limit is a 413, a truncated one a 400, and one
	// without a boundary a 400.
	r := multipartRequest(t, part{"source_img", "s.png", strings.Repeat("x", 5000)})
	if _, _, err := parseSwapBody(t, r, 1000, 1<<20); statusOf(err) != 413 {
		t.Errorf("big multipart: %v", err)
	}
	r = httptest.NewRequest("POST", "/", strings.NewReader("--b\r\nContent-Disposition: form-data; name=\"source_img\"\r\n\r\nabc"))
	r.Header.Set("Content-Type", "multipart/form-data; boundary=b")
	if _, _, err := parseSwapBody(t, r, 1<<20, 1<<20); statusOf(err) != 400 || !strings.Contains(publicMessage(err), "malformed") {
		t.Errorf("truncated multipart: %v", err)
	}
	r.Header.Set("Content-Type", "multipart/form-data")
	if _, _, err := parseSwapBody(t, r, 1<<20, 1<<20); statusOf(err) != 400 || !strings.Contains(publicMessage(err), "no boundary") {
		t.Errorf("no boundary: %v", err)
	}
}

// TestWarning: the Warning header follows RFC 7234 and is safe whatever
// the field names.
func TestWarning(t *testing.T) {
	if w := warning(nil); w != "" {
		t.Errorf("no unknown fields: %q", w)
	}
	if w := warning([]string{"bar", "foo"}); w != `299 - "unknown fields ignored: bar, foo"` {
		t.Errorf("%q", w)
	}
	if w := warning([]string{"a\"b\\c\r\nd"}); w != `299 - "unknown fields ignored: a?b?c??d"` {
		t.Errorf("%q", w)
	}
	var many []string
	for i := 0; i < 25; i++ {
		many = append(many, fmt.Sprintf("f%02d", i))
	}
	if w := warning(many); !strings.HasSuffix(w, `f19 and 5 more"`) {
		t.Errorf("%q", w)
	}
}

// TestClassify: the one mapping from errors to status and public message.
func TestClassify(t *testing.T) {
	a := &API{opt: Options{Deadline: 30 * time.Second}}
	for _, c := range []struct {
		err    error
		status int
		msg    string
	}{
		{faceswap.Errorf(422, "No face was found in source_img."), 422, "No face was found in source_img."},
		{fmt.Errorf("wrapped: %w", faceswap.ErrKeyDisabled), 403, "This API key is disabled."},
		{faceswap.Wrap(502, errors.New("dial tcp: refused"), "The URL could not be fetched."), 502, "The URL could not be fetched."},
		{&http.MaxBytesError{Limit: 50 << 20}, 413, "The request body is over the server's limit of 50 MB."},
		{deadlineError{faceswap.Errorf(502, "fetch failed")}, 504, "within the server's deadline of 30s"},
		{context.DeadlineExceeded, 504, "deadline"},
		{errOverloaded, 503, "busy"},
		{context.Canceled, statusClientClosed, "closed"},
		{errors.New("nil pointer in the swap engine"), 500, "Internal server error; the server log has the detail under request id rid-1."},
		{faceswap.Wrap(500, errors.New("detail"), "Some internal message."), 500, "under request id rid-1"},
	} {
		st, msg := a.classify(c.err, "rid-1")
		if st != c.status || !strings.Contains(msg, c.msg) {
			t.Errorf("%v: %d %q, want %d %q", c.err, st, msg, c.status, c.msg)
		}
		if st == 500 && (strings.Contains(msg, "nil pointer") || strings.Contains(msg, "detail.")) {
			t.Errorf("500 leaks the detail: %q", msg)
		}
	}
}

// TestWriteError: the body is {"error": ...} and a 503 has Retry-After.
func TestWriteError(t *testing.T) {
	a := &API{opt: Options{Deadline: time.Minute, RetryAfterSeconds: 2}}
	w := httptest.NewRecorder()
	a.writeError(w, httptest.NewRequest("GET", "/", nil), errOverloaded)
	if w.Code != 503 || w.Header().Get("Retry-After") != "2" || w.Header().Get("Content-Type") != "application/json" ||
		!strings.HasPrefix(w.Body.String(), `{"error":"The server is busy`) {
		t.Errorf("%d %v %s", w.Code, w.Header(), w.Body)
	}
}

// TestPool: workers+queue places; the next request is refused; a place
// comes back when its holder leaves or its work ends; the work runs on a
// core of the scheduler, which other work (the async jobs) shares.
func TestPool(t *testing.T) {
	sched, err := cpu.New(cpu.Config{Cores: 1})
	if err != nil {
		t.Fatal(err)
	}
	p := newPool(1, 1, sched, NewMetrics(nil))
	t1, ok1 := p.enter()
	t2, ok2 := p.enter()
	if _, ok3 := p.enter(); !ok1 || !ok2 || ok3 {
		t.Fatalf("enter: %v %v %v", ok1, ok2, ok3)
	}
	// t1 runs; t2 waits for the worker until its context ends.
	release := make(chan struct{})
	started := make(chan struct{})
	done := make(chan error)
	go func() { done <- t1.run(context.Background(), func(*cpu.Core) { close(started); <-release }) }()
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := t2.run(ctx, func(*cpu.Core) { t.Error("ran without a worker") }); !errors.Is(err, context.Canceled) {
		t.Errorf("waiting run: %v", err)
	}
	t2.leave()
	if t3, ok := p.enter(); !ok {
		t.Error("the place t2 left is not free")
	} else {
		t3.leave()
	}
	close(release)
	if err := <-done; err != nil {
		t.Error(err)
	}
	t1.leave()
	// A panic in the work is an error, and frees the worker.
	t4, _ := p.enter()
	if err := t4.run(context.Background(), func(*cpu.Core) { panic("boom") }); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("panic: %v", err)
	}
	t4.leave()
	if st := sched.Stats(); st.Busy != 0 || st.Runs != 2 {
		t.Errorf("the scheduler after the work: %+v; want 2 runs, no core held", st)
	}
	// While other work holds the only core, a request waits for it.
	other, err := sched.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t5, _ := p.enter()
	ran, ended := make(chan struct{}), make(chan error)
	go func() { ended <- t5.run(context.Background(), func(*cpu.Core) { close(ran) }) }()
	for sched.Stats().Waiting == 0 {
		time.Sleep(time.Millisecond)
	}
	select {
	case <-ran:
		t.Error("a request ran while other work held the only core")
	default:
	}
	other.Release()
	<-ran
	if err := <-ended; err != nil {
		t.Error(err)
	}
	t5.leave()
	if err := p.wait(context.Background()); err != nil {
		t.Error(err)
	}
	for i := 0; i < 2; i++ {
		if _, ok := p.enter(); !ok {
			t.Errorf("place %d not free at the end", i)
		}
	}
}

// BenchmarkParseJSON parses a seed-shaped JSON body: two images of about
// 180 KB and 75 KB as base64, and the other fields.
func BenchmarkParseJSON(b *testing.B) {
	img := func(n int) string {
		raw := make([]byte, n)
		for i := range raw {
			raw[i] = byte(i * 7)
		}
		return base64.StdEncoding.EncodeToString(raw)
	}
	body := `{"source_img":"` + img(75_000) + `","target_img":"` + img(180_000) + `","input_faces_index":"0,1,2","source_faces_index":"0,1,2",` +
		`"face_restore":"disable","interpolation":"Bilinear","detection_face_order":"large-small","facedetection":"retinaface_resnet50",` +
		`"detect_gender_input":"no","detect_gender_source":"no","face_restore_weight":0.75,"image_format":"jpeg","image_quality":95,"base64":false}`
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		f, err := parseForm(httptest.NewRecorder(), jsonRequest(body), 50<<20, 20<<20, swapFields)
		if err == nil {
			_, err = parseSwap(f)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

// TestPoolHelper: a running request may borrow a free core of the
// scheduler, not a taken one; a request waiting for a core gets it once it
// is released.
func TestPoolHelper(t *testing.T) {
	sched, err := cpu.New(cpu.Config{Cores: 2})
	if err != nil {
		t.Fatal(err)
	}
	p := newPool(2, 2, sched, NewMetrics(nil))
	t1, _ := p.enter()
	got := make(chan func())
	finish := make(chan struct{})
	done := make(chan error)
	go func() {
		done <- t1.run(context.Background(), func(core *cpu.Core) {
			release, ok := core.Borrow()
			if !ok {
				t.Error("one request running, one core free: none lent")
			}
			got <- release
			if _, again := core.Borrow(); again {
				t.Error("a core was lent with every core taken")
			}
			<-finish
		})
	}()
	release := <-got
	// Both cores are taken (t1's and the one it borrowed): the next
	// request waits until the borrowed one is given back.
	t2, _ := p.enter()
	ran := make(chan error)
	go func() { ran <- t2.run(context.Background(), func(*cpu.Core) {}) }()
	select {
	case <-ran:
		t.Fatal("a request ran while a borrowed core held the last one")
	case <-time.After(50 * time.Millisecond):
	}
	release()
	if err := <-ran; err != nil {
		t.Error(err)
	}
	close(finish)
	if err := <-done; err != nil {
		t.Error(err)
	}
	t1.leave()
	t2.leave()
	if err := p.wait(context.Background()); err != nil {
		t.Error(err)
	}
}

// TestTimingsOf: a job's stored timings come back in the order a swap runs
// its stages, others after them by name, rendered as the sync call renders
// its own.
func TestTimingsOf(t *testing.T) {
	got := timingsOf(map[string]float64{"swap": 3, "zz": 2, "fetch": 1.5, "aa": 1, "queue": 0, "decode": 12.4}).header()
	if want := "fetch;dur=1.5, queue;dur=0, decode;dur=12.4, swap;dur=3, aa;dur=1, zz;dur=2"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestTicketDo: do answers the work's own error, and the context's when the
// work ended after it.
func TestTicketDo(t *testing.T) {
	sched, err := cpu.New(cpu.Config{Cores: 1})
	if err != nil {
		t.Fatal(err)
	}
	p := newPool(1, 1, sched, NewMetrics(nil))
	boom := errors.New("boom")
	for _, c := range []struct {
		name   string
		cancel bool
		err    error
		want   error
	}{
		{"ok", false, nil, nil},
		{"the work fails", false, boom, boom},
		{"the context ends while the work runs", true, nil, context.Canceled},
	} {
		tk, ok := p.enter()
		if !ok {
			t.Fatal("no place")
		}
		ctx, cancel := context.WithCancel(context.Background())
		got := tk.do(ctx, func(*cpu.Core) error {
			if c.cancel {
				cancel()
			}
			return c.err
		})
		cancel()
		tk.leave()
		if !errors.Is(got, c.want) || (c.want == nil && got != nil) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
