// Package playground is the browser page served at GET /: an API key field
// (kept in the browser's local storage), source and target images by file,
// drag-and-drop or URL, their faces found with POST /v1/faces and drawn
// boxed and numbered as the API numbers them, clicks that build
// source_faces_index and input_faces_index, every field of the swap
// request as a control with its default (built from /openapi.json), the
// swap with a progress indicator, the result beside the target with a
// before/after slider, the Server-Timing stages, the remaining credits, the
// faces the server judged beyond the engine (X-Faces-Poor, with its
// sentences when the answer is JSON), a download link, the API's error
// messages, and the request as curl or Python.
//
// The page is one HTML document with its style and script inlined from
// the files embedded in the binary, so it works offline and loads nothing
// from elsewhere. Its Content-Security-Policy allows exactly the inlined
// script and style (by their sha256), requests to this server only, and
// images from this server, from blobs the page made and from the http(s)
// URLs a user types in.
package playground

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"
)

var (
	//go:embed index.html
	indexHTML []byte
	//go:embed playground.css
	styleCSS []byte
	//go:embed playground.js
	scriptJS []byte
)

// Placeholders in index.html that the style and the script replace.
const (
	stylePlaceholder  = "/*STYLE*/"
	scriptPlaceholder = "/*SCRIPT*/"
)

// Page is the assembled playground: the document, its ETag and its
// Content-Security-Policy. It is an http.Handler for GET and HEAD.
type Page struct {
	body []byte
	etag string
	csp  string
}

// New assembles the page from the embedded files.
func New() (*Page, error) {
	return build(indexHTML, styleCSS, scriptJS)
}

func build(html, css, js []byte) (*Page, error) {
	if bytes.Count(html, []byte(stylePlaceholder)) != 1 || bytes.Count(html, []byte(scriptPlaceholder)) != 1 {
		return nil, fmt.Errorf("playground: index.html must hold %s and %s once each", stylePlaceholder, scriptPlaceholder)
	}
	// Inlined, a closing tag inside the code would end the element early.
	if bytes.Contains(bytes.ToLower(css), []byte("</style")) {
		return nil, fmt.Errorf("playground: the style contains </style")
	}
	if bytes.Contains(bytes.ToLower(js), []byte("</script")) || bytes.Contains(js, []byte("<!--")) {
		return nil, fmt.Errorf("playground: the script contains </script or <!--")
	}
	body := bytes.Replace(html, []byte(stylePlaceholder), css, 1)
	body = bytes.Replace(body, []byte(scriptPlaceholder), js, 1)
	sum := sha256.Sum256(body)
	csp := strings.Join([]string{
		"default-src 'none'",
		"script-src " + hashSource(js),
		"style-src " + hashSource(css),
		"img-src 'self' blob: data: http: https:",
		"connect-src 'self'",
		"base-uri 'none'",
		"form-action 'none'",
		"frame-ancestors 'none'",
	}, "; ")
	return &Page{body: body, etag: `"` + hex.EncodeToString(sum[:12]) + `"`, csp: csp}, nil
}

// hashSource is a CSP source expression allowing exactly the inline code.
func hashSource(code []byte) string {
	sum := sha256.Sum256(code)
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// Body returns the assembled HTML document.
func (p *Page) Body() []byte { return p.body }

// ServeHTTP answers the page; a request whose If-None-Match holds the
// page's ETag gets a 304. The caller routes only GET and HEAD here.
func (p *Page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", p.csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", p.etag)
	http.ServeContent(w, r, "index.html", time.Time{}, bytes.NewReader(p.body))
}
