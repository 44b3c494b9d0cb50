package server_test

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"faceswap"
	"faceswap/internal/testenv"
	"faceswap/server"
)

// TestConcurrentCharges: 50 parallel requests on a key with 10 credits
// (cost 1): exactly 10 succeed, the other 40 get 406, the balance ends at
// 0, and each success reports a different remaining balance.
func TestConcurrentCharges(t *testing.T) {
	s := start(t, func(c *server.Config) { c.Workers = 2; c.Queue = 64 })
	key, id := s.key(faceswap.KeyOptions{Credits: 10})
	body := jsonBody(t, small(t))
	const n = 50
	codes := make([]int, n)
	remaining := make([]string, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			req, _ := http.NewRequest("POST", s.url+"/v1/faceswap-v3-multifaceswap", bytes.NewReader(body))
			req.Header.Set("x-api-key", key)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			codes[i], remaining[i] = resp.StatusCode, resp.Header.Get("X-Remaining-Credits")
		}(i)
	}
	wg.Wait()
	count := map[int]int{}
	seen := map[string]bool{}
	for i, c := range codes {
		count[c]++
		if c == 200 {
			if seen[remaining[i]] {
				t.Errorf("two successes both left %s credits", remaining[i])
			}
			seen[remaining[i]] = true
		}
	}
	if count[200] != 10 || count[406] != 40 || len(count) != 2 {
		t.Errorf("statuses %v, want 10 × 200 and 40 × 406", count)
	}
	if b := s.balance(id); b != 0 {
		t.Errorf("balance %d, want 0", b)
	}
	// Each success left a distinct balance 9 … 0.
	for i := 0; i < 10; i++ {
		if !seen[strconv.Itoa(i)] {
			t.Errorf("no success left %d credits: %v", i, seen)
		}
	}
}

// TestOverloaded: with one worker and no queue, a request that holds the
// only place (its source image stalls upstream) makes the next one a 503
// with Retry-After; once released, the first one completes.
func TestOverloaded(t *testing.T) {
	s := start(t, func(c *server.Config) { c.Workers = 1; c.Queue = 0 })
	ph := newPhotos(t)
	key, id := s.key(faceswap.KeyOptions{Credits: 5})
	stalled := with(small(t), "source_img", ph.URL+"/stall/"+testenv.Tiny)
	first := make(chan *response, 1)
	go func() { first <- s.swap(key, stalled) }()
	<-ph.stalled // the first request is admitted and fetching
	r := s.swap(key, small(t))
	if r.StatusCode != 503 || r.Header.Get("Retry-After") == "" || !strings.Contains(r.errorMessage(t), "busy") {
		t.Errorf("second request: %d Retry-After %q %s", r.StatusCode, r.Header.Get("Retry-After"), r.body)
	}
	wantMetered(t, r, 5)
	ph.Release()
	if r := <-first; r.StatusCode != 200 || r.Header.Get("X-Faces-Swapped") != "1" {
		t.Errorf("first request: %d %s", r.StatusCode, r.body)
	}
	if b := s.balance(id); b != 4 {
		t.Errorf("balance %d, want 4 (only the 200 charged)", b)
	}
	// The place is free again.
	if r := s.swap(key, small(t)); r.StatusCode != 200 {
		t.Errorf("after release: %d %s", r.StatusCode, r.body)
	}
	metrics := s.metrics(s.url)
	for _, want := range []string{"faceswap_overload_rejections_total 1", "faceswap_queue_depth 0", "faceswap_in_flight 0"} {
		if !strings.Contains(metrics, want+"\n") {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// TestDeadline: a request still waiting for its image at the deadline is
// a 504 and is not charged.
func TestDeadline(t *testing.T) {
	s := start(t, func(c *server.Config) { c.Deadline = 500 * time.Millisecond })
	ph := newPhotos(t)
	key, id := s.key(faceswap.KeyOptions{Credits: 5})
	r := s.swap(key, with(small(t), "target_img", ph.URL+"/stall/"+testenv.Portrait2))
	if r.StatusCode != 504 || !strings.Contains(r.errorMessage(t), "deadline") {
		t.Errorf("%d %s", r.StatusCode, r.body)
	}
	wantMetered(t, r, 5)
	if b := s.balance(id); b != 5 {
		t.Errorf("balance %d", b)
	}
}

// TestGracefulShutdown: Close lets a request in flight finish (and be
// charged) while new connections are refused.
func TestGracefulShutdown(t *testing.T) {
	s := start(t, nil)
	ph := newPhotos(t)
	key, id := s.key(faceswap.KeyOptions{Credits: 5})
	stalled := with(small(t), "source_img", ph.URL+"/stall/"+testenv.Tiny)
	inflight := make(chan *response, 1)
	go func() { inflight <- s.swap(key, stalled) }()
	<-ph.stalled
	closed := make(chan error, 1)
	go func() { closed <- s.m.Close() }()
	// Wait until the listener is gone: new connections are refused.
	for {
		c, err := net.Dial("tcp", s.m.Addr())
		if err != nil {
			break
		}
		c.Close()
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while a request was in flight", err)
	default:
	}
	ph.Release()
	if r := <-inflight; r.StatusCode != 200 {
		t.Errorf("in-flight request: %d %s", r.StatusCode, r.body)
	}
	if err := <-closed; err != nil {
		t.Errorf("Close: %v", err)
	}
	if b := s.balance(id); b != 4 {
		t.Errorf("balance %d, want 4", b)
	}
}

func (s *srv) metrics(base string) string {
	s.t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		s.t.Fatalf("/metrics: %d %s", resp.StatusCode, b)
	}
	return string(b)
}

// TestMetrics: the Prometheus metrics count requests by route and status,
// time the pipeline stages, count faces, and can live on their own
// listener.
func TestMetrics(t *testing.T) {
	s := start(t, nil)
	key, _ := s.key(faceswap.KeyOptions{Credits: 5})
	s.swap(key, small(t))
	s.do("GET", "/nope", "", "", nil)
	m := s.metrics(s.url)
	for _, want := range []string{
		`faceswap_http_requests_total{code="200",route="/v1/faceswap-v3-multifaceswap"} 1`,
		`faceswap_http_requests_total{code="404",route="unmatched"} 1`,
		`faceswap_stage_duration_seconds_count{stage="detect"} 1`,
		`faceswap_stage_duration_seconds_count{stage="fetch"} 1`,
		`faceswap_faces_swapped_sum 1`,
		`faceswap_credits_charged_total 1`,
		`faceswap_queue_depth 0`,
		`faceswap_in_flight 0`,
		`faceswap_model_load_seconds`,
		`faceswap_http_request_duration_seconds_bucket{route="/v1/faceswap-v3-multifaceswap",le="+Inf"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q", want)
		}
	}

	sep := start(t, func(c *server.Config) { c.MetricsAddr = "127.0.0.1:0" })
	if sep.m.MetricsAddr() == sep.m.Addr() {
		t.Fatalf("metrics on the API address %s", sep.m.Addr())
	}
	if r := sep.do("GET", "/metrics", "", "", nil); r.StatusCode != 404 {
		t.Errorf("/metrics on the API listener: %d", r.StatusCode)
	}
	if m := sep.metrics("http://" + sep.m.MetricsAddr()); !strings.Contains(m, "faceswap_http_requests_total") {
		t.Errorf("separate listener: %.200s", m)
	}
}

// TestReadyDuringShutdown: /readyz turns 503 once draining starts.
func TestReadyDuringShutdown(t *testing.T) {
	s := start(t, nil)
	s.m.API.Drain()
	r := s.do("GET", "/readyz", "", "", nil)
	if r.StatusCode != 503 || !strings.Contains(r.errorMessage(t), "shutting down") {
		t.Errorf("%d %s", r.StatusCode, r.body)
	}
}

// TestCostPerFace: with FACESWAP_COST_PER_FACE each swapped face costs
// the configured cost, and a request whose index list the balance cannot
// cover is refused (406) before any work.
func TestCostPerFace(t *testing.T) {
	s := start(t, func(c *server.Config) { c.Cost = 2; c.CostPerFace = true })
	key, id := s.key(faceswap.KeyOptions{Credits: 10})
	req := map[string]any{"source_img": b64(t, seedSource), "target_img": b64(t, seedSource), "input_faces_index": "0,1,2", "source_faces_index": "2,1,0"}
	r := s.swap(key, req)
	if r.StatusCode != 200 || r.Header.Get("X-Faces-Swapped") != "3" {
		t.Fatalf("%d %s", r.StatusCode, r.body)
	}
	wantMetered(t, r, 4)
	if b := s.balance(id); b != 4 {
		t.Errorf("balance %d, want 10 - 3 faces × 2", b)
	}
	r = s.swap(key, req)
	if r.StatusCode != 406 {
		t.Errorf("3 faces × 2 with 4 credits: %d %s", r.StatusCode, r.body)
	}
	if r := s.swap(key, with(req, "input_faces_index", "1", "source_faces_index", "0")); r.StatusCode != 200 || s.balance(id) != 2 {
		t.Errorf("one face: %d, balance %d", r.StatusCode, s.balance(id))
	}
}
