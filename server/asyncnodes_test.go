package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"faceswap"
	"faceswap/internal/testenv"
	"faceswap/models"
	"faceswap/store/postgres"

	"github.com/jackc/pgx/v5"
)

// startWorker starts "faceswap worker"; the test's clean-up stops it.
func startWorker(t *testing.T, name, bin string, env []string) *node {
	t.Helper()
	n := &node{name: name}
	startProcess(t, n, bin, env, 30*time.Second, false, "worker")
	deadline := time.Now().Add(2 * time.Minute)
	for !strings.Contains(n.out.String(), "job workers started") {
		select {
		case err := <-n.done:
			n.done <- err
			t.Fatalf("%s ended before it started: %v\n%s", name, err, n.out.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not start within 2 minutes:\n%s", name, n.out.String())
		}
	}
	return n
}

// TestAsyncWorkerKilled is the async acceptance test: 30 jobs go through
// one "faceswap serve" front (no workers of its own) to two "faceswap
// worker" processes sharing one PostgreSQL schema. One worker is killed with
// SIGKILL while it runs a job. Every job still completes exactly once (the
// killed one is rescued and run again by the other worker), is charged
// exactly once (one usage row per job; the balance fell by 30), and its
// result is fetched and is an image of the target's size.
func TestAsyncWorkerKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three processes and waits for a rescue (about a minute); skipped in -short mode")
	}
	dbURL := testDatabaseURL(t)
	home := testenv.Models(t, "onnx/"+models.BlazeFace+".onnx", "onnx/"+models.FaceMesh+".onnx", "onnx/"+models.FaceRes+".onnx", "onnx/"+models.Iris+".onnx").Home
	bin := buildFaceswap(t)
	env := append(nodeEnv(home, dbURL, "", t.TempDir()),
		"FACESWAP_JOB_TIMEOUT=8s",       // one run of a job
		"FACESWAP_JOB_RESCUE_AFTER=10s", // a dead worker's job is run again after this (River looks every 30 s)
		"FACESWAP_LOG_LEVEL=info",
	)
	front := startNode(t, "front", bin, append(slices.Clip(env), "FACESWAP_ASYNC_WORKERS=0"))
	front.waitReady(t, 2*time.Minute)
	workerEnv := append(slices.Clip(env), "FACESWAP_ASYNC_WORKERS=1")
	a := startWorker(t, "worker A", bin, workerEnv)
	probes := closedPort(t)
	b := startWorker(t, "worker B", bin, append(slices.Clip(workerEnv), "FACESWAP_METRICS_ADDR="+probes))
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		resp, err := http.Get("http://" + probes + path)
		if err != nil {
			t.Fatalf("worker B's %s: %v", path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("worker B's %s: %d", path, resp.StatusCode)
		}
	}

	ctx := context.Background()
	db, err := postgres.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const jobs, credits = 30, 100
	secret, k, err := db.CreateKey(ctx, faceswap.KeyOptions{Name: "async kill", Credits: credits, RatePerMinute: 100000})
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(map[string]any{
		"source_img":        b64(t, testenv.Portrait),
		"target_img":        b64(t, testenv.Group5),
		"input_faces_index": "0,1,2",
	})
	if err != nil {
		t.Fatal(err)
	}
	api := loadOpenAPI(t)
	client := &http.Client{Timeout: time.Minute}
	call := func(method, path string, body []byte) *response {
		t.Helper()
		req, err := http.NewRequest(method, front.url+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("x-api-key", secret)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		r := &response{resp, b}
		api.check(t, method, path, r)
		return r
	}
	ids := make([]string, jobs)
	for i := range ids {
		r := call("POST", "/v2/faceswap-v3-multifaceswap", body)
		if r.StatusCode != 200 {
			t.Fatalf("submit %d: %d %s", i+1, r.StatusCode, r.body)
		}
		ids[i], _ = r.json(t)["request_id"].(string)
	}

	// Kill worker A while it runs a job: River names the worker that took
	// a job in attempted_by (the client ID is host-pid).
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	host, _ := os.Hostname()
	aID := fmt.Sprintf("%s-%d", host, a.cmd.Process.Pid)
	var killedJob string
	deadline := time.Now().Add(time.Minute)
	for killedJob == "" {
		// Running in River's view and PROCESSING in ours: the worker has
		// started the job and not yet recorded its outcome (River marks its
		// entries done in batches, a moment after the work returns).
		err := conn.QueryRow(ctx, `SELECT r.args->>'job_id' FROM river_job r JOIN jobs j ON j.id = r.args->>'job_id'
			WHERE r.state = 'running' AND r.kind = 'faceswap.swap' AND r.attempted_by[array_length(r.attempted_by, 1)] = $1
				AND j.status = 'PROCESSING' LIMIT 1`, aID).Scan(&killedJob)
		if err != nil && err != pgx.ErrNoRows {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("worker A never ran a job")
		}
		if killedJob == "" {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		// The job may finish between that query and a kill (it takes about
		// a second; once a CI run killed a worker just after it had
		// recorded the job as done, and nothing was left to rescue): freeze
		// the worker, let what it already sent land, and kill it only if
		// the job is still unfinished; else thaw it and pick again.
		if err := a.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
		var status string
		if err := conn.QueryRow(ctx, `SELECT status FROM jobs WHERE id = $1`, killedJob).Scan(&status); err != nil {
			t.Fatal(err)
		}
		if status != "PROCESSING" {
			if err := a.cmd.Process.Signal(syscall.SIGCONT); err != nil {
				t.Fatal(err)
			}
			killedJob = ""
		}
	}
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-a.done
	a.done <- nil // for the clean-up
	killedAt := time.Now()
	t.Logf("killed worker A (%s) while it ran %s", aID, killedJob)

	// Every job completes; the killed one after River rescues it.
	deadline = time.Now().Add(3 * time.Minute)
	statuses := map[string]string{}
	for {
		done := 0
		for _, id := range ids {
			if st := statuses[id]; st == "COMPLETED" || st == "FAILED" {
				done++
				continue
			}
			r := call("GET", "/v2/requests/"+id+"/status", nil)
			statuses[id], _ = r.json(t)["status"].(string)
		}
		if done == jobs {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 3 minutes: statuses %v", statuses)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("all %d jobs finished %.1f s after the kill", jobs, time.Since(killedAt).Seconds())

	want, _, _ := image.DecodeConfig(bytes.NewReader(photo(t, testenv.Group5)))
	attempts := map[string]int{}
	for i, id := range ids {
		st := call("GET", "/v2/requests/"+id+"/status", nil).json(t)
		if st["status"] != "COMPLETED" {
			t.Errorf("job %d %s: %v", i+1, id, st)
			continue
		}
		m, _ := st["metrics"].(map[string]any)
		n, _ := m["attempts"].(float64)
		attempts[id] = int(n)
		r := call("GET", "/v2/requests/"+id, nil)
		cfg, _, err := image.DecodeConfig(bytes.NewReader(r.body))
		if r.StatusCode != 200 || err != nil || cfg.Width != want.Width || cfg.Height != want.Height || r.Header.Get("X-Faces-Swapped") != "3" {
			t.Errorf("result of job %d: %d, %dx%d (%v), faces %q", i+1, r.StatusCode, cfg.Width, cfg.Height, err, r.Header.Get("X-Faces-Swapped"))
		}
	}
	if attempts[killedJob] < 2 {
		t.Errorf("the killed job %s reports %d attempt(s), want 2 (run again after the kill)", killedJob, attempts[killedJob])
	}
	// Charged exactly once each: one usage row per job, cost 1, nothing else.
	rows, err := conn.Query(ctx, `SELECT request_id, cost FROM usage WHERE key_id = $1`, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	usage := map[string]int64{}
	for rows.Next() {
		var id string
		var cost int64
		if err := rows.Scan(&id, &cost); err != nil {
			t.Fatal(err)
		}
		usage[id] += cost
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	for _, id := range ids {
		if usage[id] != 1 {
			t.Errorf("job %s charged %d", id, usage[id])
		}
	}
	if len(usage) != jobs {
		t.Errorf("%d usage rows, want %d", len(usage), jobs)
	}
	left, err := db.Key(ctx, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if left.Credits != credits-jobs {
		t.Errorf("balance %d, want %d", left.Credits, credits-jobs)
	}
	t.Logf("attempts per job: %v; worker B still running: %v", attempts, b.cmd.ProcessState == nil)
}
