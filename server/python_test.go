package server_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"faceswap"
	"faceswap/internal/testenv"
)

// seedScript extracts the hosted API's Python example from the seed page:
// its lines are numbered 1-34 (the page shows the example twice).
func seedScript(t *testing.T) string {
	t.Helper()
	path := filepath.Join(testenv.TestdataDir(t), "..", "seed", "faceswap-v3-multifaceswap.txt")
	data, err := os.ReadFile(path)
	if err != nil {
		// The seed page comes with the shared test data, which is here.
		t.Fatalf("the seed page is not at %s: %v", path, err)
	}
	s := string(data)
	i := strings.Index(s, "1import requests")
	if i < 0 {
		t.Fatalf("%s: no numbered Python example", path)
	}
	lines := strings.Split(s[i:], "\n")
	if len(lines) < 34 {
		t.Fatalf("%s: the example has %d lines", path, len(lines))
	}
	var out []string
	for n := 1; n <= 34; n++ {
		l, ok := strings.CutPrefix(lines[n-1], strconv.Itoa(n))
		if !ok {
			t.Fatalf("%s: example line %d is %q", path, n, lines[n-1])
		}
		if n == 34 {
			l, _, _ = strings.Cut(l, " 1import") // the second copy starts here
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n") + "\n"
}

// TestSeedPythonExample runs the hosted API's Python example (requests)
// against our server, changed only in its URL, key and the two image URLs
// (the derived group photos). The example is on the seed page, which only
// the shared folder has: without it the test is skipped.
// Two things in the example itself would stop it on any server, so the
// test states them instead of hiding them: it writes the JSON literal
// false, which Python does not define (a one-line prelude "false = False"
// supplies it without touching the example's lines), and on a 200 it
// calls response.json() on what the API documents as an image — that
// call raises, after the server has answered 200 with the swapped JPEG.
func TestSeedPythonExample(t *testing.T) {
	if err := exec.Command("python3", "-c", "import requests").Run(); err != nil {
		t.Skipf("python3 with requests is not installed (scripts/system-deps.sh installs python3-requests): %v", err)
	}
	script := seedScript(t)
	s := start(t, nil)
	ph := newPhotos(t)
	key, id := s.key(faceswap.KeyOptions{Credits: 3})
	for old, repl := range map[string]string{
		"https://api.segmind.com/v1/faceswap-v3-multifaceswap": s.url + "/v1/faceswap-v3-multifaceswap",
		"YOUR_API_KEY": key,
		"https://segmind-resources.s3.amazonaws.com/output/8ba04e7c-1041-4009-85be-76c8874e1d30-faceswap-v3-multifaceswap-input.jpg":                       ph.image(seedSource),
		"https://segmind-resources.s3.amazonaws.com/output/3b87e9fb-1d51-42ad-ae1e-1ddbcbd6f0d0-front-view-smiley-young-friends-hugging_23-2148342123.jpg": ph.image(seedTarget),
	} {
		if strings.Count(script, old) != 1 {
			t.Fatalf("the example does not hold %q once", old)
		}
		script = strings.Replace(script, old, repl, 1)
	}
	file := filepath.Join(t.TempDir(), "example.py")
	if err := os.WriteFile(file, []byte("false = False\n"+script), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("python3", file)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if strings.Contains(stdout.String(), "Error: ") {
		t.Fatalf("the server answered an error to the example:\n%s", stdout.String())
	}
	// The server answered 200 and charged one credit…
	if b := s.balance(id); b != 2 {
		t.Errorf("balance %d, want 2 (one successful swap)", b)
	}
	ok200 := false
	for _, line := range strings.Split(s.logs.String(), "\n") {
		if strings.Contains(line, `"route":"/v1/faceswap-v3-multifaceswap"`) && strings.Contains(line, `"status":200`) {
			ok200 = true
		}
	}
	if !ok200 {
		t.Errorf("no 200 for the example in the server log")
	}
	// …and the example then stopped where it parses the image as JSON.
	if err == nil || !strings.Contains(stderr.String(), "result = response.json()") || !strings.Contains(stderr.String(), "JSONDecodeError") {
		t.Errorf("expected the example to fail only in response.json() on the image: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
}
