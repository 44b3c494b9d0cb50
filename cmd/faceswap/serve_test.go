package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"faceswap"
	"faceswap/internal/testenv"
	"faceswap/store/sqlite"
)

// TestServeBadConfiguration: every bad setting, from flags and from the
// environment, is reported at once, as a usage error (exit 2), before
// anything is opened.
func TestServeBadConfiguration(t *testing.T) {
	emptyHome(t)
	t.Setenv("FACESWAP_QUEUE", "many")
	t.Setenv("FACESWAP_WORKERS", "zero") // overridden by the flag below
	code, _, _, err := cli(t, "serve", "--workers", "2", "--deadline", "soon", "--max-body", "-1", "--rate-per-minute", "0")
	if code != 2 || err == nil {
		t.Fatalf("exit %d, err %v", code, err)
	}
	msg := err.Error()
	for _, want := range []string{"bad configuration", `FACESWAP_QUEUE (--queue) "many"`, `FACESWAP_DEADLINE (--deadline) "soon"`,
		`FACESWAP_MAX_BODY (--max-body) "-1"`, "FACESWAP_RATE_PER_MINUTE (--rate-per-minute): must be at least 1"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "FACESWAP_WORKERS") {
		t.Errorf("the --workers flag did not override FACESWAP_WORKERS:\n%s", msg)
	}
	if code, _, _, err := cli(t, "serve", "extra"); code != 2 || !strings.Contains(err.Error(), "serve takes 0 argument(s)") {
		t.Errorf("positional argument: exit %d, %v", code, err)
	}
	if code, _, stderr, _ := cli(t, "serve", "-h"); code != 2 || !strings.Contains(stderr, "FACESWAP_MAX_IMAGE_PIXELS") || !strings.Contains(stderr, "-fetch-allow") {
		t.Errorf("serve -h: exit %d\n%s", code, stderr)
	}
}

// TestServeNotSetUp: without models the server does not start, and says
// how to set up (exit 5).
func TestServeNotSetUp(t *testing.T) {
	emptyHome(t)
	code, _, _, err := cli(t, "serve", "--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "k.db"))
	if code != 5 || err == nil || !strings.Contains(err.Error(), "make setup") {
		t.Errorf("exit %d, %v", code, err)
	}
}

// lockedBuffer is an io.Writer the test can read while the command writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestServe: "faceswap serve" loads the models from the cache folder,
// serves a swap for a key made in its database, and shuts down cleanly
// when its context ends.
func TestServe(t *testing.T) {
	p := testenv.Models(t, "onnx/blazeface-back.onnx", "onnx/facemesh.onnx", "onnx/faceres.onnx", "onnx/iris.onnx")
	// Any photos with one face each will do: those every set-up machine has.
	source, target := testenv.PhotoBytes(t, testenv.Tiny), testenv.PhotoBytes(t, testenv.Portrait2)
	db := filepath.Join(t.TempDir(), "keys.db")
	t.Setenv("FACESWAP_HOME", p.Home)
	t.Setenv("FACESWAP_DB", db)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--workers", "1"}, &stdout, io.Discard)
	}()

	re := regexp.MustCompile(`serving the API on (http://\S+)`)
	var base string
	for deadline := time.Now().Add(time.Minute); base == ""; {
		select {
		case err := <-done:
			t.Fatalf("serve ended: %v\n%s", err, stdout.String())
		default:
		}
		if m := re.FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("no address after a minute:\n%s", stdout.String())
		} else {
			time.Sleep(20 * time.Millisecond)
		}
	}

	resp, err := http.Get(base + "/readyz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("/readyz: %v %v", resp, err)
	}
	resp.Body.Close()

	store, err := sqlite.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	secret, k, err := store.CreateKey(context.Background(), faceswap.KeyOptions{Credits: 2})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{
		"source_img": base64.StdEncoding.EncodeToString(source),
		"target_img": base64.StdEncoding.EncodeToString(target),
	})
	req, _ := http.NewRequest("POST", base+"/v1/faceswap-v3-multifaceswap", bytes.NewReader(body))
	req.Header.Set("x-api-key", secret)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/jpeg" || resp.Header.Get("X-Remaining-Credits") != "1" {
		t.Errorf("swap: %d %v", resp.StatusCode, resp.Header)
	}
	if k, err = store.Key(context.Background(), k.ID); err != nil || k.Credits != 1 {
		t.Errorf("credits after one swap: %d %v", k.Credits, err)
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
	if !strings.Contains(stdout.String(), "shutting down") {
		t.Errorf("stdout:\n%s", stdout.String())
	}
}
