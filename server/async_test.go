package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	_ "image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"faceswap"
	"faceswap/internal/testenv"
	"faceswap/jobs"
	"faceswap/server"
)

// submit posts a v2 request and returns its request_id (failing t unless
// the answer is a 200 QUEUED-shaped body).
func (s *srv) submit(key string, fields map[string]any, header ...string) (id string, r *response) {
	s.t.Helper()
	body, err := json.Marshal(fields)
	if err != nil {
		s.t.Fatal(err)
	}
	req, err := http.NewRequest("POST", s.url+"/v2/faceswap-v3-multifaceswap", bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("x-api-key", key)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	r = s.send(req)
	if r.StatusCode != 200 {
		return "", r
	}
	v := r.json(s.t)
	id, _ = v["request_id"].(string)
	base := s.url + "/v2/requests/" + id
	if v["status_url"] != base+"/status" || v["poll_url"] != base+"/status" || v["response_url"] != base {
		s.t.Errorf("v2 answer's URLs: %v", v)
	}
	return id, r
}

// status reads a job's status body.
func (s *srv) status(key, id string) (int, map[string]any) {
	s.t.Helper()
	r := s.do("GET", "/v2/requests/"+id+"/status", key, "", nil)
	if r.StatusCode != 200 {
		return r.StatusCode, map[string]any{"error": r.errorMessage(s.t)}
	}
	return 200, r.json(s.t)
}

// await polls until the job is finished and returns its final status body.
func (s *srv) await(key, id string, wait time.Duration) map[string]any {
	s.t.Helper()
	deadline := time.Now().Add(wait)
	for {
		code, v := s.status(key, id)
		if code != 200 {
			s.t.Fatalf("status of %s: %d %v", id, code, v)
		}
		if st := v["status"]; st == "COMPLETED" || st == "FAILED" {
			return v
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("job %s still %v after %v", id, v["status"], wait)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestAsync: a v2 request is queued, run by the server's own worker, and
// its result is the sync call's answer; it is charged once, on completion,
// and reading it is free; another key cannot see it.
func TestAsync(t *testing.T) {
	s := start(t, nil)
	key, id := s.key(faceswap.KeyOptions{Credits: 5})
	other, _ := s.key(faceswap.KeyOptions{Credits: 5})

	req, r := s.submit(key, small(t))
	if r.StatusCode != 200 || r.json(t)["status"] != "QUEUED" {
		t.Fatalf("submit: %d %s", r.StatusCode, r.body)
	}
	if !strings.HasPrefix(req, "req_") {
		t.Fatalf("request_id %q", req)
	}
	wantMetered(t, r, 5) // nothing charged when queued
	final := s.await(key, req, time.Minute)
	if final["status"] != "COMPLETED" {
		t.Fatalf("final status %v", final)
	}
	m, _ := final["metrics"].(map[string]any)
	if m["faces_swapped"] != 1.0 || m["attempts"] != 1.0 {
		t.Errorf("metrics %v", m)
	}
	for _, stage := range []string{"fetch", "queue", "decode", "detect", "swap", "encode"} {
		if _, ok := m["timings_ms"].(map[string]any)[stage]; !ok {
			t.Errorf("timings lack %s: %v", stage, m["timings_ms"])
		}
	}
	if got := s.balance(id); got != 4 {
		t.Errorf("balance after completion %d, want 4", got)
	}
	res := s.do("GET", "/v2/requests/"+req, key, "", nil)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/jpeg" || res.Header.Get("X-Faces-Swapped") != "1" {
		t.Fatalf("result: %d %s %q", res.StatusCode, res.Header.Get("Content-Type"), res.body[:min(len(res.body), 200)])
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(res.body))
	want, _, _ := image.DecodeConfig(bytes.NewReader(photo(t, testenv.Portrait2)))
	if err != nil || cfg.Width != want.Width || cfg.Height != want.Height {
		t.Errorf("result %dx%d (%v), want the target's %dx%d", cfg.Width, cfg.Height, err, want.Width, want.Height)
	}
	if !strings.Contains(res.Header.Get("Server-Timing"), "swap;dur=") {
		t.Errorf("Server-Timing %q", res.Header.Get("Server-Timing"))
	}
	again := s.do("GET", "/v2/requests/"+req, key, "", nil)
	if !bytes.Equal(again.body, res.body) {
		t.Error("a second read gave other bytes")
	}
	if got := s.balance(id); got != 4 {
		t.Errorf("balance after two reads %d, want 4 (reading is free)", got)
	}
	for _, path := range []string{"/v2/requests/" + req, "/v2/requests/" + req + "/status", "/v2/requests/req_000000000000000000000000", "/v2/requests/nonsense/status"} {
		if r := s.do("GET", path, other, "", nil); r.StatusCode != 404 {
			t.Errorf("GET %s by another key: %d", path, r.StatusCode)
		}
	}
	if r := s.do("GET", "/v2/requests/"+req, "", "", nil); r.StatusCode != 401 {
		t.Errorf("GET without a key: %d", r.StatusCode)
	}

	// base64: the result is the sync call's JSON.
	req64, _ := s.submit(key, with(small(t), "base64", true, "image_format", "png"))
	if st := s.await(key, req64, time.Minute)["status"]; st != "COMPLETED" {
		t.Fatalf("base64 job %v", st)
	}
	res = s.do("GET", "/v2/requests/"+req64, key, "", nil)
	var body jobs.ImageJSON
	if err := json.Unmarshal(res.body, &body); err != nil || res.Header.Get("Content-Type") != "application/json" || body.FacesSwapped != 1 {
		t.Fatalf("base64 result %d %q: %v", res.StatusCode, res.Header.Get("Content-Type"), err)
	}
	if !strings.HasPrefix(body.Image, "iVBORw0KGgo") {
		t.Errorf("base64 image does not start as a PNG: %.20s", body.Image)
	}
}

// TestAsyncFailures: bad input is refused at submission (nothing queued or
// charged); a job that fails in the worker answers FAILED and 422 with the
// sync call's error, and is not charged; a result is 404 before completion.
func TestAsyncFailures(t *testing.T) {
	s := start(t, nil)
	key, id := s.key(faceswap.KeyOptions{Credits: 3})
	for _, c := range []struct {
		fields map[string]any
		status int
	}{
		{map[string]any{"source_img": b64(t, testenv.Portrait2)}, 400},
		{with(small(t), "image_quality", 5), 400},
		{with(small(t), "webhook", "ftp://example.com/hook"), 400},
		{with(small(t), "webhook", "https://example.com/hook"), 400}, // no webhook secret on this server
		{with(small(t), "target_img", "aGVsbG8="), 400},
	} {
		if _, r := s.submit(key, c.fields); r.StatusCode != c.status {
			t.Errorf("submit %v: %d %s, want %d", keys(c.fields), r.StatusCode, r.body, c.status)
		}
	}
	if _, r := s.submit(key, small(t), "Idempotency-Key", strings.Repeat("k", 256)); r.StatusCode != 400 {
		t.Errorf("a 256-byte Idempotency-Key: %d", r.StatusCode)
	}
	if _, r := s.submit("fs_unknown", small(t)); r.StatusCode != 401 {
		t.Errorf("unknown key: %d", r.StatusCode)
	}

	// No face in the source: FAILED with the sync call's 422.
	req, _ := s.submit(key, with(small(t), "source_img", b64(t, testenv.NoFace)))
	final := s.await(key, req, time.Minute)
	if final["status"] != "FAILED" || final["error_status"] != 422.0 || !strings.Contains(final["error"].(string), "source_img") {
		t.Fatalf("no-face job: %v", final)
	}
	res := s.do("GET", "/v2/requests/"+req, key, "", nil)
	v := res.json(t)
	if res.StatusCode != 422 || v["status"] != "FAILED" || v["error"] != final["error"] {
		t.Errorf("FAILED result: %d %s", res.StatusCode, res.body)
	}
	if got := s.balance(id); got != 3 {
		t.Errorf("balance %d after failures, want 3", got)
	}

	// A node without workers only queues: the job waits, its result is 404.
	front := start(t, func(c *server.Config) { c.AsyncWorkers = 0 })
	fkey, _ := front.key(faceswap.KeyOptions{Credits: 1})
	req, r := front.submit(fkey, small(t))
	if r.StatusCode != 200 {
		t.Fatalf("submit to a front without workers: %d %s", r.StatusCode, r.body)
	}
	if code, v := front.status(fkey, req); code != 200 || v["status"] != "QUEUED" {
		t.Errorf("status before completion: %d %v", code, v)
	}
	if res := front.do("GET", "/v2/requests/"+req, fkey, "", nil); res.StatusCode != 404 || !strings.Contains(res.errorMessage(t), "not completed yet") {
		t.Errorf("result before completion: %d %s", res.StatusCode, res.body)
	}
}

func keys(m map[string]any) []string {
	var k []string
	for name, v := range m {
		if s, ok := v.(string); ok && len(s) < 40 {
			name += "=" + s
		}
		k = append(k, name)
	}
	return k
}

// TestAsyncIdempotencyAndExpiry: a repeated Idempotency-Key returns the
// first job (run and charged once); results expire after the TTL (404).
func TestAsyncIdempotencyAndExpiry(t *testing.T) {
	s := start(t, func(c *server.Config) { c.JobTTL = 6 * time.Second })
	key, id := s.key(faceswap.KeyOptions{Credits: 10})
	const n = 5
	ids := make([]string, n)
	req := small(t) // read here: a skip in the goroutines below would not end the test
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { ids[i], _ = s.submit(key, req, "Idempotency-Key", "order-42") })
	}
	wg.Wait()
	for i := range ids {
		if ids[i] == "" || ids[i] != ids[0] {
			t.Fatalf("one Idempotency-Key gave request ids %v", ids)
		}
	}
	final := s.await(key, ids[0], time.Minute)
	if final["status"] != "COMPLETED" {
		t.Fatalf("%v", final)
	}
	if r := s.do("GET", "/v2/requests/"+ids[0], key, "", nil); r.StatusCode != 200 {
		t.Fatalf("result before expiry: %d", r.StatusCode)
	}
	again, r := s.submit(key, req, "Idempotency-Key", "order-42")
	if again != ids[0] || r.json(t)["status"] != "COMPLETED" {
		t.Errorf("a repeat after completion: %s %s", again, r.body)
	}
	other, _ := s.submit(key, req, "Idempotency-Key", "order-43")
	if other == ids[0] {
		t.Error("another Idempotency-Key got the same job")
	}
	s.await(key, other, time.Minute)
	if got := s.balance(id); got != 8 {
		t.Errorf("balance %d after two distinct jobs (one submitted %d times), want 8", got, n+1)
	}
	time.Sleep(time.Until(expiry(t, s, ids[0])) + 100*time.Millisecond)
	for _, path := range []string{"/v2/requests/" + ids[0], "/v2/requests/" + ids[0] + "/status"} {
		if r := s.do("GET", path, key, "", nil); r.StatusCode != 404 || !strings.Contains(r.errorMessage(t), "expired") {
			t.Errorf("GET %s after expiry: %d %s", path, r.StatusCode, r.body)
		}
	}
	// The sweeper deletes them (it runs every TTL/2 here).
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := s.db.DeleteExpiredJobs(context.Background(), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break // the sweeper got there first
		}
		if time.Now().After(deadline) {
			t.Fatal("expired jobs are still in the database")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// expiry reads when a finished job expires.
func expiry(t *testing.T, s *srv, id string) time.Time {
	j, err := s.db.Job(context.Background(), id)
	if err != nil {
		return time.Now() // expired already
	}
	return j.ExpiresAt
}

// TestAsyncWebhook: a receiver that fails twice gets the signed final status
// on the third try; the signature verifies with the server's secret.
func TestAsyncWebhook(t *testing.T) {
	const secret = "test-webhook-secret"
	type delivery struct {
		body []byte
		sig  string
		id   string
	}
	var mu sync.Mutex
	var got []delivery
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, delivery{b, r.Header.Get(jobs.SignatureHeader), r.Header.Get(jobs.RequestIDHeader)})
		n := len(got)
		mu.Unlock()
		if n <= 2 {
			http.Error(w, "not yet", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()
	s := start(t, func(c *server.Config) {
		c.WebhookSecret = secret
		c.WebhookBackoff = 100 * time.Millisecond
	})
	key, _ := s.key(faceswap.KeyOptions{Credits: 5})
	req, r := s.submit(key, with(small(t), "webhook", recv.URL+"/hook?x=1"))
	if r.StatusCode != 200 {
		t.Fatalf("submit: %d %s", r.StatusCode, r.body)
	}
	s.await(key, req, time.Minute)
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d webhook deliveries after 30 s, want 3", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // no fourth one after the success
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 3 {
		t.Errorf("%d deliveries, want 3 (two failures, one success)", len(got))
	}
	for i, d := range got {
		if !jobs.Verify([]byte(secret), d.body, d.sig) || d.id != req {
			t.Errorf("delivery %d: signature %q does not verify, or request id %q", i+1, d.sig, d.id)
		}
		if jobs.Verify([]byte("another secret"), d.body, d.sig) {
			t.Errorf("delivery %d verifies with a wrong secret", i+1)
		}
		var st jobs.Status
		if err := json.Unmarshal(d.body, &st); err != nil || st.RequestID != req || st.Status != "COMPLETED" || len(st.Metrics) == 0 {
			t.Errorf("delivery %d body %s", i+1, d.body)
		}
	}
	if !bytes.Equal(got[0].body, got[2].body) {
		t.Error("retries sent another body")
	}
}
