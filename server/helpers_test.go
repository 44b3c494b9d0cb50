package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"faceswap"
	"faceswap/internal/testenv"
	"faceswap/limit/memory"
	"faceswap/models"
	"faceswap/onnx"
	"faceswap/pipeline"
	"faceswap/server"
	"faceswap/store"
	"faceswap/store/sqlite"
)

// The end-to-end tests start real servers (server.Main on 127.0.0.1:0)
// with the real models, a real SQLite file in t.TempDir(), the real
// fetcher (allow-listed for a loopback photo server) and the in-process
// limiter. Every response they get is checked against /openapi.json.

var (
	plOnce sync.Once
	plErr  error
	shared *pipeline.Pipeline
)

// sharedPipeline loads the models once for every server of the test binary
// (through OpenPipeline, as the serve command does).
func sharedPipeline(t testing.TB) *pipeline.Pipeline {
	t.Helper()
	p := testenv.Models(t, "onnx/"+models.BlazeFace+".onnx", "onnx/"+models.FaceMesh+".onnx", "onnx/"+models.FaceRes+".onnx", "onnx/"+models.Iris+".onnx")
	plOnce.Do(func() {
		shared, _, plErr = pipeline.Open(p, onnx.Config{LibraryPath: p.ORTLibrary()})
	})
	if plErr != nil {
		t.Fatal(plErr)
	}
	return shared
}

// syncBuffer is a log sink tests can read while the server writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// photos serves the derived test photos (testenv.Photos: made from the
// demo photos set-up fetches, so on every machine) over loopback HTTP, plus:
//
//	/stall/NAME   waits until release is closed (or the client goes), then serves NAME
//	/redirect?to=URL  a 302 to URL
//	/status/500   an upstream error
type photos struct {
	*httptest.Server
	dir     string
	stalled chan string   // receives NAME when a /stall request arrives
	release chan struct{} // close to let stalled requests finish
	once    sync.Once
}

func newPhotos(t *testing.T) *photos {
	t.Helper()
	p := &photos{dir: testenv.Photos(t), stalled: make(chan string, 16), release: make(chan struct{})}
	mux := http.NewServeMux()
	mux.Handle("/images/", http.StripPrefix("/images/", http.FileServer(http.Dir(p.dir))))
	mux.HandleFunc("/stall/{name}", func(w http.ResponseWriter, r *http.Request) {
		p.stalled <- r.PathValue("name")
		select {
		case <-p.release:
			http.ServeFile(w, r, filepath.Join(p.dir, filepath.Base(r.PathValue("name"))))
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
	})
	mux.HandleFunc("/status/500", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "upstream broke", http.StatusInternalServerError)
	})
	p.Server = httptest.NewServer(mux)
	t.Cleanup(func() { p.Release(); p.Close() })
	return p
}

// Release lets every stalled request (now and later) finish.
func (p *photos) Release() { p.once.Do(func() { close(p.release) }) }

// URL of a test photo.
func (p *photos) image(name string) string { return p.URL + "/images/" + name }

// photo returns the bytes of a derived test photo (testenv.Group3 …).
func photo(t testing.TB, name string) []byte {
	t.Helper()
	return testenv.PhotoBytes(t, name)
}

func b64(t testing.TB, name string) string { return base64.StdEncoding.EncodeToString(photo(t, name)) }

// sharedPhoto returns the bytes of a photo of the shared test data
// (testdata/images), for the few tests that need what only it has, such
// as men. It skips t when the folder is missing: call it in the test's
// own goroutine, before starting anything that uses it.
func sharedPhoto(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.TestdataDir(t), "images", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// srv is one server under test.
type srv struct {
	t    *testing.T
	m    *server.Main
	db   *sqlite.DB
	logs *syncBuffer
	url  string
	api  *openAPI
}

// testConfig is the configuration the tests start from: loopback, a fresh
// database, the photo server allow-listed, a generous rate limit.
func testConfig(t *testing.T) server.Config {
	cfg := server.Defaults()
	cfg.Addr = "127.0.0.1:0"
	cfg.DB = filepath.Join(t.TempDir(), "faceswap.db")
	cfg.Home = models.Default().Home
	cfg.Workers = 2
	cfg.Queue = 64
	cfg.FetchAllow = []string{"127.0.0.1/32"}
	cfg.RatePerMinute = 100000
	cfg.LogLevel = -4 // debug
	return cfg
}

// start runs a server with the test configuration changed by mod, and the
// shared pipeline unless deps brings one.
func start(t *testing.T, mod func(*server.Config), deps ...server.Deps) *srv {
	t.Helper()
	cfg := testConfig(t)
	if mod != nil {
		mod(&cfg)
	}
	var d server.Deps
	if len(deps) > 0 {
		d = deps[0]
	}
	if d.Pipeline == nil {
		d.Pipeline = sharedPipeline(t)
	}
	db, err := sqlite.Open(cfg.DB)
	if err != nil {
		t.Fatal(err)
	}
	d.Store = store.SQLite(db)
	if d.Limiter == nil {
		d.Limiter = memory.New()
	}
	logs := &syncBuffer{}
	d.Log = logs
	m, err := server.NewWith(cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := &srv{t: t, m: m, db: db, logs: logs, url: m.URL(), api: loadOpenAPI(t)}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		db.Close()
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return s
}

// key creates an API key and returns its secret and ID.
func (s *srv) key(opt faceswap.KeyOptions) (secret, id string) {
	s.t.Helper()
	secret, k, err := s.db.CreateKey(context.Background(), opt)
	if err != nil {
		s.t.Fatal(err)
	}
	return secret, k.ID
}

// balance returns a key's credits (free and paid).
func (s *srv) balance(id string) int64 {
	s.t.Helper()
	k, err := s.db.Key(context.Background(), id)
	if err != nil {
		s.t.Fatal(err)
	}
	return k.Credits + k.FreeCredits
}

// response is an answer with its body read.
type response struct {
	*http.Response
	body []byte
}

func (r *response) json(t testing.TB) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("status %d: body is not JSON: %v: %.200q", r.StatusCode, err, r.body)
	}
	return v
}

// errorMessage returns the "error" of an error body.
func (r *response) errorMessage(t testing.TB) string {
	t.Helper()
	msg, _ := r.json(t)["error"].(string)
	return msg
}

// do sends a request and checks the answer against the OpenAPI document.
func (s *srv) do(method, path, key, contentType string, body []byte) *response {
	s.t.Helper()
	req, err := http.NewRequest(method, s.url+path, bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("x-api-key", key)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return s.send(req)
}

func (s *srv) send(req *http.Request) *response {
	s.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	r := &response{resp, body}
	s.api.check(s.t, req.Method, req.URL.Path, r)
	return r
}

// swap posts a JSON swap request.
func (s *srv) swap(key string, fields map[string]any) *response {
	s.t.Helper()
	return s.swapLike("/v1/faceswap-v3-multifaceswap", key, fields)
}

// swapLike posts fields as JSON to path.
func (s *srv) swapLike(path, key string, fields map[string]any) *response {
	s.t.Helper()
	body, err := json.Marshal(fields)
	if err != nil {
		s.t.Fatal(err)
	}
	return s.do("POST", path, key, "application/json", body)
}

// small is a quick request: the 115-pixel portrait into the 400-pixel one
// it was made from (one face each).
func small(t testing.TB) map[string]any {
	t.Helper()
	return map[string]any{
		"source_img": b64(t, testenv.Tiny),
		"target_img": b64(t, testenv.Portrait2),
	}
}

func with(m map[string]any, kv ...any) map[string]any {
	out := make(map[string]any, len(m)+len(kv)/2)
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// wantHeaders checks the headers of every metered response.
func wantMetered(t *testing.T, r *response, balance int64) {
	t.Helper()
	if r.Header.Get("X-Request-Id") == "" {
		t.Errorf("status %d: no X-Request-Id", r.StatusCode)
	}
	if got := r.Header.Get("X-Remaining-Credits"); got != strconv.FormatInt(balance, 10) {
		t.Errorf("status %d: X-Remaining-Credits %q, want %d", r.StatusCode, got, balance)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
