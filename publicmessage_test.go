package faceswap_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// operatorWords are what a public message must not say: how the server is
// set up (an environment variable, a set-up command, a model file, a
// folder) is the operator's business and goes to the log; how to install a
// model with "faceswap models pull" is fine.
var operatorWords = []string{"FACESWAP_", "make setup", "faceswap setup", ".onnx", "~/", "/.cache", "encoding/json", "--"}

// cliOnly are the packages whose errors reach only the command line, where
// the operator is the one reading (a file given to "faceswap models
// import" is named back).
var cliOnly = []string{"cmd", "tools", "models/optional"}

// TestPublicMessagesSpeakOfTheAPI reads every faceswap.Errorf and
// faceswap.Wrap of the product's packages: the public sentence never names
// an operator detail, and never carries another error's text (err.Error()),
// which is a library's wording; the cause goes in Wrap's err, to the log.
func TestPublicMessagesSpeakOfTheAPI(t *testing.T) {
	fset := token.NewFileSet()
	n := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		for _, skip := range cliOnly {
			if d.IsDir() && filepath.ToSlash(path) == skip {
				return filepath.SkipDir
			}
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(node ast.Node) bool {
			call, ok := node.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "Errorf" && sel.Sel.Name != "Wrap") {
				return true
			}
			if pkg, ok := sel.X.(*ast.Ident); !ok || pkg.Name != "faceswap" && !(f.Name.Name == "faceswap" && pkg.Name == "") {
				return true
			}
			first := 1
			if sel.Sel.Name == "Wrap" {
				first = 2
			}
			if len(call.Args) <= first {
				return true
			}
			n++
			at := fset.Position(call.Pos())
			if lit, ok := call.Args[first].(*ast.BasicLit); ok {
				msg, _ := strconv.Unquote(lit.Value)
				for _, w := range operatorWords {
					if strings.Contains(msg, w) {
						t.Errorf("%s: the public message %q names %q", at, msg, w)
					}
				}
			}
			for _, a := range call.Args[first+1:] {
				if c, ok := a.(*ast.CallExpr); ok {
					if s, ok := c.Fun.(*ast.SelectorExpr); ok && s.Sel.Name == "Error" && len(c.Args) == 0 {
						t.Errorf("%s: the public message carries an error's text", at)
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 100 {
		t.Errorf("read only %d public messages; the walk missed the packages", n)
	}
}
