package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"faceswap"
	"faceswap/internal/testenv"
	"faceswap/models"
	"faceswap/store/postgres"
)

// node is one "faceswap serve" process of TestThreeNodes.
type node struct {
	name string
	url  string
	cmd  *exec.Cmd
	out  *syncBuffer // its stdout and stderr
	done chan error  // receives Wait's result when the process ends
}

// TestThreeNodes is the multi-node acceptance test: three real
// "faceswap serve" processes, sharing nothing but one PostgreSQL schema and
// one Redis, are one service. 45 parallel swaps spread over them with a key
// holding 20 credits give exactly 20 images and 25 refusals (406) and leave
// the key at 0; a key limited to 3 requests a minute gets 3 answers in all,
// whichever nodes its 9 requests reach.
func TestThreeNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three server processes and runs 45 swaps; skipped in -short mode")
	}
	dbURL, redisURL := testDatabaseURL(t), testRedisURL(t)
	home := testenv.Models(t, "onnx/"+models.BlazeFace+".onnx", "onnx/"+models.FaceMesh+".onnx", "onnx/"+models.FaceRes+".onnx", "onnx/"+models.Iris+".onnx").Home
	swapBody, err := json.Marshal(small(t))
	if err != nil {
		t.Fatal(err)
	}
	facesBody, err := json.Marshal(map[string]any{"image": b64(t, testenv.Tiny)})
	if err != nil {
		t.Fatal(err)
	}
	api := loadOpenAPI(t)

	bin := buildFaceswap(t)
	env := nodeEnv(home, dbURL, redisURL, t.TempDir())
	nodes := make([]*node, 3)
	for i := range nodes {
		nodes[i] = startNode(t, fmt.Sprintf("node %d", i+1), bin, env)
	}
	for _, n := range nodes {
		n.waitReady(t, 2*time.Minute)
	}

	ctx := context.Background()
	db, err := postgres.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	client := &http.Client{Timeout: 3 * time.Minute}
	post := func(n *node, path, key string, body []byte) (*response, error) {
		req, err := http.NewRequest("POST", n.url+path, bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("x-api-key", key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", n.name, err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", n.name, err)
		}
		return &response{resp, b}, nil
	}

	// Credits: 45 parallel swaps, round-robin over the nodes, for a key
	// of 20 credits (and a limit that never bites).
	const credits, swaps = 20, 45
	secret, k, err := db.CreateKey(ctx, faceswap.KeyOptions{Name: "three nodes: credits", Credits: credits, RatePerMinute: 100000})
	if err != nil {
		t.Fatal(err)
	}
	answers := make([]*response, swaps)
	errs := make([]error, swaps)
	var wg sync.WaitGroup
	for i := range swaps {
		wg.Go(func() { answers[i], errs[i] = post(nodes[i%3], "/v1/faceswap-v3-multifaceswap", secret, swapBody) })
	}
	wg.Wait()
	statuses := map[int]int{}
	perNode := make([]map[int]int, 3)
	var remaining []int
	for i, r := range answers {
		if errs[i] != nil {
			t.Errorf("swap %d: %v", i+1, errs[i])
			continue
		}
		api.check(t, "POST", "/v1/faceswap-v3-multifaceswap", r)
		statuses[r.StatusCode]++
		if perNode[i%3] == nil {
			perNode[i%3] = map[int]int{}
		}
		perNode[i%3][r.StatusCode]++
		switch r.StatusCode {
		case 200:
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "image/") || len(r.body) == 0 {
				t.Errorf("swap %d: 200 with %q, %d bytes", i+1, ct, len(r.body))
			}
			n, err := strconv.Atoi(r.Header.Get("X-Remaining-Credits"))
			if err != nil {
				t.Errorf("swap %d: 200 with X-Remaining-Credits %q", i+1, r.Header.Get("X-Remaining-Credits"))
			}
			remaining = append(remaining, n)
		case 406:
		default:
			t.Errorf("swap %d on %s: status %d: %.300s", i+1, nodes[i%3].name, r.StatusCode, r.body)
		}
	}
	t.Logf("%d swaps over 3 nodes: statuses %v; per node %v", swaps, statuses, perNode)
	if statuses[200] != credits || statuses[406] != swaps-credits {
		t.Errorf("statuses %v, want %d × 200 and %d × 406", statuses, credits, swaps-credits)
	}
	// Each successful charge left a different balance: 19, 18, ... 0.
	slices.Sort(remaining)
	want := make([]int, 0, credits)
	for n := range credits {
		want = append(want, n)
	}
	if !slices.Equal(remaining, want) {
		t.Errorf("X-Remaining-Credits of the 200s, sorted: %v, want 0..%d once each", remaining, credits-1)
	}
	if got, err := db.Key(ctx, k.ID); err != nil || got.Credits+got.FreeCredits != 0 {
		t.Errorf("balance after the swaps: %+v, %v; want 0", got, err)
	}

	// Rate limit: 9 quick requests, round-robin, for a key of 3 a minute.
	// The limit is kept in Redis under the key's ID, new for this run.
	const rate, tries = 3, 9
	limited, _, err := db.CreateKey(ctx, faceswap.KeyOptions{Name: "three nodes: rate", Credits: 10, RatePerMinute: rate})
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for i := range tries {
		n := nodes[i%3]
		r, err := post(n, "/v1/faces", limited, facesBody)
		if err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
		api.check(t, "POST", "/v1/faces", r)
		got = append(got, r.StatusCode)
		if l := r.Header.Get("X-RateLimit-Limit"); l != strconv.Itoa(rate) {
			t.Errorf("request %d on %s: X-RateLimit-Limit %q, want %d", i+1, n.name, l, rate)
		}
		if i < rate && r.StatusCode == 429 || i >= rate && r.StatusCode != 429 {
			t.Errorf("request %d on %s: status %d: %.200s", i+1, n.name, r.StatusCode, r.body)
		}
		if r.StatusCode == 429 && r.Header.Get("Retry-After") == "" {
			t.Errorf("request %d on %s: 429 without Retry-After", i+1, n.name)
		}
	}
	t.Logf("%d requests to /v1/faces, limit %d a minute, round-robin over 3 nodes: %v", tries, rate, got)
}

// buildFaceswap builds the command into a temporary folder.
func buildFaceswap(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "faceswap")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/faceswap")
	cmd.Dir = testenv.RepoRoot()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1") // the onnx package needs cgo
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/faceswap: %v\n%s", err, out)
	}
	return bin
}

// nodeEnv is the environment of every node: this process's, without its
// FACESWAP_* settings except the ONNX Runtime library, plus the shared
// back ends, one worker and a queue that holds every request.
func nodeEnv(home, dbURL, redisURL, dir string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "FACESWAP_") && !strings.HasPrefix(kv, "FACESWAP_ORT_LIB=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"FACESWAP_HOME="+home,
		"FACESWAP_DB="+filepath.Join(dir, "unused.db"),
		"FACESWAP_DATABASE_URL="+dbURL,
		"FACESWAP_REDIS_URL="+redisURL,
		"FACESWAP_WORKERS=1",
		"FACESWAP_QUEUE=64",
		"FACESWAP_DEADLINE=3m", // 15 swaps wait in turn for each node's one worker
	)
}

// startNode starts "faceswap serve" on a free loopback port; the test's
// clean-up stops it (SIGTERM, then SIGKILL), whatever happened.
func startNode(t *testing.T, name, bin string, env []string) *node {
	t.Helper()
	addr := closedPort(t)
	n := &node{name: name, url: "http://" + addr}
	startProcess(t, n, bin, append(slices.Clip(env), "FACESWAP_ADDR="+addr), 15*time.Second, true, "serve")
	return n
}

// startProcess runs bin with args and env for n; the test's clean-up sends
// SIGTERM and waits up to stopWithin before SIGKILL (with mustStop, a failure
// of the test), and shows n's output if the test failed.
func startProcess(t *testing.T, n *node, bin string, env []string, stopWithin time.Duration, mustStop bool, args ...string) {
	t.Helper()
	n.out, n.done = &syncBuffer{}, make(chan error, 1)
	n.cmd = exec.Command(bin, args...)
	n.cmd.Env = slices.Clip(env)
	n.cmd.Stdout, n.cmd.Stderr = n.out, n.out
	if err := n.cmd.Start(); err != nil {
		t.Fatalf("%s: %v", n.name, err)
	}
	go func() { n.done <- n.cmd.Wait() }()
	t.Cleanup(func() {
		n.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-n.done:
		case <-time.After(stopWithin):
			n.cmd.Process.Kill()
			<-n.done
			if mustStop {
				t.Errorf("%s did not stop within %v of SIGTERM; killed", n.name, stopWithin)
			}
		}
		if t.Failed() {
			t.Logf("%s (%s) output:\n%.20000s", n.name, n.url, n.out.String())
		}
	})
}

// waitReady waits until the node's /readyz answers 200, failing the test
// if the process ends first or the wait runs out.
func (n *node) waitReady(t *testing.T, wait time.Duration) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		resp, err := http.Get(n.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case err := <-n.done:
			n.done <- err // for the clean-up
			t.Fatalf("%s ended before it was ready: %v\n%s", n.name, err, n.out.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after %v (last: %v)\n%s", n.name, wait, err, n.out.String())
		}
	}
}
