package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// Chromium returns the path of a Chromium (or Chrome) for browser tests:
// $FACESWAP_CHROMIUM, or the first of chromium, chromium-browser,
// google-chrome on PATH. It skips t when there is none (the test set-up,
// scripts/test-deps.sh, installs Debian's chromium), or fails it under CI.
func Chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("FACESWAP_CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			skip(t, "FACESWAP_CHROMIUM=%s: %v", p, err)
		}
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	skip(t, "no Chromium for the browser test: install Debian's chromium (make test's set-up does it as root: scripts/test-deps.sh) or set FACESWAP_CHROMIUM")
	return ""
}

// Program returns the path of a command tests run, skipping t (failing it
// under CI) when it is not on PATH.
func Program(t testing.TB, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		skip(t, "%s not found: %s", name, install)
	}
	return p
}
