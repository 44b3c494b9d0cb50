package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"faceswap"
	"faceswap/limit/memory"
	"faceswap/models"
	"faceswap/pipeline"
	"faceswap/server"
	"faceswap/store"
	"faceswap/store/sqlite"
	"faceswap/swap"
)

// load counts the swaps running in a server's engines, by the kind of
// request they serve, independently of the CPU scheduler.
type load struct {
	mu          sync.Mutex
	sync, async int
	most        int  // the most swaps running at once
	together    bool // a sync and an async swap ran at the same time
}

func (l *load) enter(async bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if async {
		l.async++
	} else {
		l.sync++
	}
	l.most = max(l.most, l.sync+l.async)
	l.together = l.together || (l.sync > 0 && l.async > 0)
}

func (l *load) leave(async bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if async {
		l.async--
	} else {
		l.sync--
	}
}

// countedEngine is the real mesh engine, counted in a load (and held
// there for pause, so that runs overlap when they may).
type countedEngine struct {
	swap.Engine
	name  string
	async bool
	load  *load
	pause time.Duration
}

func (e countedEngine) Name() string { return e.name }

func (e countedEngine) Swap(dst, src *image.NRGBA, pairs []swap.Pair, opt swap.Options) ([]swap.Region, error) {
	e.load.enter(e.async)
	defer e.load.leave(e.async)
	time.Sleep(e.pause)
	return e.Engine.Swap(dst, src, pairs, opt)
}

// countedPipeline is the shared pipeline with two more engines, the mesh
// engine counted in l: "sync-mesh" for the sync requests and "async-mesh"
// for the jobs.
func countedPipeline(tb testing.TB, l *load, pause time.Duration) *pipeline.Pipeline {
	pl := *sharedPipeline(tb)
	mesh := pl.Engines["mesh"]
	pl.Engines = map[string]swap.Engine{"mesh": mesh,
		"sync-mesh":  countedEngine{Engine: mesh, name: "sync-mesh", load: l, pause: pause},
		"async-mesh": countedEngine{Engine: mesh, name: "async-mesh", async: true, load: l, pause: pause}}
	return &pl
}

// TestMixedLoadWithinCores: with sync requests arriving while async jobs
// run, on a server of 2 workers and 2 async workers, sync and async
// swaps run side by side, yet never more of them at once than the 2
// configured cores (counted in the engines), and the scheduler never lent
// more cores than it has (borrowed ones included). Each was the real
// pipeline's answer: every request succeeds.
func TestMixedLoadWithinCores(t *testing.T) {
	const cores = 2
	l := &load{}
	s := start(t, func(c *server.Config) { c.Workers, c.AsyncWorkers, c.Queue = cores, 2, 64 },
		server.Deps{Pipeline: countedPipeline(t, l, 400*time.Millisecond)})
	key, _ := s.key(faceswap.KeyOptions{Credits: 1000})
	const each = 6
	// the jobs reach the workers through the queue, later than sync
	// requests reach the pool: sync swaps keep coming (at least each of
	// them) until every job has finished, so that the two kinds meet
	var jobs, senders sync.WaitGroup
	for range each {
		jobs.Add(1)
		go func() {
			defer jobs.Done()
			id, r := s.submit(key, with(small(t), "swap_model", "async-mesh"))
			if r.StatusCode != 200 {
				t.Errorf("submit: %d %s", r.StatusCode, r.body)
				return
			}
			if final := s.await(key, id, time.Minute); final["status"] != "COMPLETED" {
				t.Errorf("job %s: %v", id, final)
			}
		}()
	}
	jobsDone := make(chan struct{})
	go func() { jobs.Wait(); close(jobsDone) }()
	for range cores {
		senders.Add(1)
		go func() {
			defer senders.Done()
			for n := 0; ; n++ {
				select {
				case <-jobsDone:
					if n >= each/cores {
						return
					}
				default:
				}
				if r := s.swap(key, with(small(t), "swap_model", "sync-mesh")); r.StatusCode != 200 {
					t.Errorf("sync swap: %d %s", r.StatusCode, r.body)
					return
				}
			}
		}()
	}
	senders.Wait()
	st := s.m.CPU.Stats()
	t.Logf("most swaps at once %d, sync and async together %v; scheduler %+v", l.most, l.together, st)
	if l.most > cores || st.Peak > cores {
		t.Errorf("%d swaps ran at once, %d cores held at once; the server has %d", l.most, st.Peak, cores)
	}
	if !l.together {
		t.Error("no sync and async swap ever ran at the same time: the test did not load both")
	}
	if st.Runs < 2*each || st.Busy != 0 || st.Waiting != 0 {
		t.Errorf("scheduler after the load: %+v; want %d runs or more, nothing held or waiting", st, 2*each)
	}
}

// BenchmarkMixedLoad is the throughput of a server of 2 workers and 2
// async workers (the configuration of a 2-core machine) under mixed load:
// two clients send sync swaps one after another while two others submit
// async jobs and wait for each; an op is one sync swap and one job. It
// reports swaps a second, the sync swaps' median and 95th percentile
// latency, the jobs' median time to completion, and the most swaps that
// ran at once in the engines.
func BenchmarkMixedLoad(b *testing.B) {
	l := &load{}
	cfg := server.Defaults()
	cfg.Addr, cfg.DB, cfg.Home = "127.0.0.1:0", filepath.Join(b.TempDir(), "faceswap.db"), models.Default().Home
	cfg.Workers, cfg.AsyncWorkers, cfg.Queue, cfg.RatePerMinute = 2, 2, 64, 1_000_000
	db, err := sqlite.Open(cfg.DB)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	m, err := server.NewWith(cfg, server.Deps{Pipeline: countedPipeline(b, l, 0), Store: store.SQLite(db), Limiter: memory.New(), Log: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	if err := m.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
	key, _, err := db.CreateKey(context.Background(), faceswap.KeyOptions{Credits: 1_000_000})
	if err != nil {
		b.Fatal(err)
	}
	post := func(path string, fields map[string]any) (*http.Response, []byte) {
		body, _ := json.Marshal(fields)
		req, _ := http.NewRequest("POST", m.URL()+path, bytes.NewReader(body))
		req.Header.Set("x-api-key", key)
		req.Header.Set("Content-Type", "application/json")
		return do(b, req)
	}
	syncOne := func() time.Duration {
		begin := time.Now()
		if r, body := post("/v1/faceswap-v3-multifaceswap", with(small(b), "swap_model", "sync-mesh")); r.StatusCode != 200 {
			b.Fatalf("sync swap: %d %s", r.StatusCode, body)
		}
		return time.Since(begin)
	}
	asyncOne := func() time.Duration {
		begin := time.Now()
		r, body := post("/v2/faceswap-v3-multifaceswap", with(small(b), "swap_model", "async-mesh"))
		var v struct {
			RequestID string `json:"request_id"`
			Status    string `json:"status"`
		}
		if r.StatusCode != 200 || json.Unmarshal(body, &v) != nil {
			b.Fatalf("submit: %d %s", r.StatusCode, body)
		}
		for v.Status != "COMPLETED" {
			if v.Status == "FAILED" {
				b.Fatalf("job %s failed", v.RequestID)
			}
			time.Sleep(10 * time.Millisecond)
			req, _ := http.NewRequest("GET", m.URL()+"/v2/requests/"+v.RequestID+"/status", nil)
			req.Header.Set("x-api-key", key)
			if _, body = do(b, req); json.Unmarshal(body, &v) != nil {
				b.Fatalf("status: %s", body)
			}
		}
		return time.Since(begin)
	}
	syncOne() // warm-up
	asyncOne()

	const clients = 2 // of each kind
	var (
		mu           sync.Mutex
		syncs, waits []time.Duration
		wg           sync.WaitGroup
	)
	client := func(n int, one func() time.Duration, into *[]time.Duration) {
		defer wg.Done()
		for range n {
			d := one()
			mu.Lock()
			*into = append(*into, d)
			mu.Unlock()
		}
	}
	b.ResetTimer()
	begin := time.Now()
	for c := range clients {
		n := b.N / clients
		if c < b.N%clients {
			n++
		}
		wg.Add(2)
		go client(n, syncOne, &syncs)
		go client(n, asyncOne, &waits)
	}
	wg.Wait()
	elapsed := time.Since(begin)
	b.StopTimer()
	b.ReportMetric(float64(2*b.N)/elapsed.Seconds(), "swaps/s")
	b.ReportMetric(ms(percentile(syncs, 50)), "sync-p50-ms")
	b.ReportMetric(ms(percentile(syncs, 95)), "sync-p95-ms")
	b.ReportMetric(ms(percentile(waits, 50)), "job-p50-ms")
	b.ReportMetric(float64(l.most), "most-swaps-at-once")
	b.ReportMetric(0, "ns/op")
}

// do sends req and reads the answer.
func do(b *testing.B, req *http.Request) (*http.Response, []byte) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.Fatal(err)
	}
	return resp, body
}

func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }
