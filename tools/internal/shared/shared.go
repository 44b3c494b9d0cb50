// Package shared says where the tools find the shared folder beside the
// repository: its test photos (FACESWAP_TESTDATA, else
// ../shared/testdata) and the independent evaluator (FACESWAP_EVAL, else
// ../shared/eval), as paths relative to the repository root, where make
// runs the tools.
package shared

import (
	"os"
	"path/filepath"
)

// Testdata is the shared test photos' folder.
func Testdata() string { return envOr("FACESWAP_TESTDATA", filepath.Join("..", "shared", "testdata")) }

// Eval is the evaluator's folder.
func Eval() string { return envOr("FACESWAP_EVAL", filepath.Join("..", "shared", "eval")) }

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
