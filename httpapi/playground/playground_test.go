package playground

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// TestPage: the document inlines the style and the script exactly, the
// Content-Security-Policy names their hashes (so a browser runs them and
// nothing else), nothing is loaded from another origin, and the ETag
// gives a 304.
func TestPage(t *testing.T) {
	p, err := New()
	if err != nil {
		t.Fatal(err)
	}
	body := p.Body()
	for _, ph := range []string{stylePlaceholder, scriptPlaceholder} {
		if bytes.Contains(body, []byte(ph)) {
			t.Errorf("placeholder %s left in the page", ph)
		}
	}
	script := regexp.MustCompile(`(?s)<script>(.*?)</script>`).FindAllSubmatch(body, -1)
	style := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindAllSubmatch(body, -1)
	if len(script) != 1 || len(style) != 1 {
		t.Fatalf("%d inline scripts and %d styles, want one each", len(script), len(style))
	}
	if !bytes.Equal(script[0][1], scriptJS) || !bytes.Equal(style[0][1], styleCSS) {
		t.Error("the inlined script or style differs from the embedded file")
	}
	// No external resource: no src/href to another origin, no @import, no url(http...).
	if m := regexp.MustCompile(`(?i)(src|href)\s*=\s*"(https?:)?//`).Find(body); m != nil {
		t.Errorf("the page loads from elsewhere: %s", m)
	}
	if m := regexp.MustCompile(`(?i)@import|url\(\s*['"]?https?:`).Find(styleCSS); m != nil {
		t.Errorf("the style loads from elsewhere: %s", m)
	}

	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 200 || !bytes.Equal(rec.Body.Bytes(), body) {
		t.Fatalf("GET /: %d, %d bytes", rec.Code, rec.Body.Len())
	}
	h := rec.Header()
	if ct := h.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	csp := h.Get("Content-Security-Policy")
	for _, code := range [][]byte{scriptJS, styleCSS} {
		sum := sha256.Sum256(code)
		if want := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %s", csp, want)
		}
	}
	for _, want := range []string{"default-src 'none'", "connect-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP lacks %q", want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP allows unsafe code: %q", csp)
	}
	etag := h.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	rec = httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("If-None-Match", etag)
	p.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
		t.Errorf("If-None-Match: %d with %d bytes, want 304 and none", rec.Code, rec.Body.Len())
	}
	rec = httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest("HEAD", "/", nil))
	if rec.Code != 200 || rec.Body.Len() != 0 {
		t.Errorf("HEAD: %d with %d bytes", rec.Code, rec.Body.Len())
	}
}

// TestBuildRefuses: code that would end its element early, or a template
// without its placeholders, is refused.
func TestBuildRefuses(t *testing.T) {
	html := []byte("<style>/*STYLE*/</style><script>/*SCRIPT*/</script>")
	for name, c := range map[string][3]string{
		"script closes":   {string(html), "", "let a = '</script>';"},
		"script comment":  {string(html), "", "let a = '<!--';"},
		"style closes":    {string(html), "a{} </STYLE>", ""},
		"no placeholders": {"<p>hi</p>", "", ""},
		"two scripts":     {string(html) + "/*SCRIPT*/", "", ""},
	} {
		if _, err := build([]byte(c[0]), []byte(c[1]), []byte(c[2])); err == nil {
			t.Errorf("%s: built", name)
		}
	}
	if _, err := build(html, []byte("a{}"), []byte("let a = 1;")); err != nil {
		t.Errorf("a plain page: %v", err)
	}
}
