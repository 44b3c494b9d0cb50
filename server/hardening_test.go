package server_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"faceswap"
	"faceswap/internal/testenv"
	"faceswap/server"
)

// The bad-input inventory of docs/hardening.md: each class of hostile or
// broken input, sent to a real server, gets its documented answer, and
// nothing is charged for it.

// blackPNG is a w×h black greyscale PNG: a few kilobytes that inflate to
// w×h×4 bytes once decoded (a decompression bomb when large).
func blackPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&b, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// sofSize rewrites the frame size of a baseline JPEG's SOF0 segment.
func sofSize(t *testing.T, j []byte, w, h uint16) []byte {
	t.Helper()
	i := bytes.Index(j, []byte{0xFF, 0xC0})
	if i < 0 {
		t.Fatal("no SOF0 marker")
	}
	out := bytes.Clone(j)
	binary.BigEndian.PutUint16(out[i+5:], h)
	binary.BigEndian.PutUint16(out[i+7:], w)
	return out
}

func TestDecompressionBombs(t *testing.T) {
	s := start(t, func(c *server.Config) { c.MaxImagePixels = 4_000_000 })
	key, id := s.key(faceswap.KeyOptions{Credits: 10})
	ok := small(t)
	j := func(v map[string]any) []byte { return jsonBody(t, v) }
	enc := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

	over := blackPNG(t, 3000, 3000) // 9 MP in a few KB
	within := blackPNG(t, 1500, 1500)
	t.Logf("black PNGs: 3000x3000 in %d bytes, 1500x1500 in %d bytes", len(over), len(within))
	var screen bytes.Buffer // a GIF whose logical screen is 60000x60000, with a 1x1 frame
	pal := color.Palette{color.Black, color.White}
	if err := gif.EncodeAll(&screen, &gif.GIF{Image: []*image.Paletted{image.NewPaletted(image.Rect(0, 0, 1, 1), pal)},
		Delay: []int{0}, Config: image.Config{ColorModel: pal, Width: 60000, Height: 60000}}); err != nil {
		t.Fatal(err)
	}
	group := photo(t, testenv.Group3) // a baseline JPEG (its frame size is in SOF0)
	// A scan bomb: the one scan of a small JPEG repeated 600 times.
	var tiny bytes.Buffer
	if err := jpeg.Encode(&tiny, image.NewGray(image.Rect(0, 0, 64, 64)), nil); err != nil {
		t.Fatal(err)
	}
	tj := tiny.Bytes()
	sos := bytes.Index(tj, []byte{0xFF, 0xDA})
	scanBomb := bytes.Clone(tj[:len(tj)-2])
	for range 600 {
		scanBomb = append(scanBomb, tj[sos:len(tj)-2]...)
	}
	scanBomb = append(scanBomb, 0xFF, 0xD9)
	webp := []byte("RIFF\x00\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x00\x00\x00\x00\xfe\x3f\x00\xfe\x3f\x00")
	binary.LittleEndian.PutUint32(webp[4:], uint32(len(webp)-8))

	start := time.Now()
	runErrCases(t, s, id, []errCase{
		{name: "PNG bomb over the pixel limit", key: key, body: j(with(ok, "target_img", enc(over))), status: 413, msg: "over the limit of 4 MP"},
		{name: "GIF logical screen", key: key, body: j(with(ok, "target_img", enc(screen.Bytes()))), status: 413, msg: "60000x60000"},
		{name: "JPEG frame size", key: key, body: j(with(ok, "target_img", enc(sofSize(t, group, 65000, 65000)))), status: 413, msg: "65000x65000"},
		{name: "WebP canvas", key: key, body: j(with(ok, "source_img", enc(webp))), status: 413, msg: "16383x16383"},
		{name: "JPEG scan bomb", key: key, body: j(with(ok, "target_img", enc(scanBomb))), status: 400, msg: "more than 500 scans"},
	})
	t.Logf("the five bombs were refused in %v", time.Since(start))
	// Within the limits a small file that inflates a lot is decoded like
	// any other picture: this one has no face.
	runErrCases(t, s, id, []errCase{
		{name: "PNG bomb within the limits", key: key, body: j(with(ok, "target_img", enc(within))), status: 422, msg: "No face was found in target_img"},
	})
}

func TestTruncatedAndPolyglotFiles(t *testing.T) {
	s := start(t, nil)
	key, id := s.key(faceswap.KeyOptions{Credits: 10})
	ok := small(t)
	j := func(v map[string]any) []byte { return jsonBody(t, v) }
	enc := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	group := photo(t, testenv.Group3)       // a JPEG with faces
	portrait := photo(t, testenv.Portrait2) // a PNG with a face

	runErrCases(t, s, id, []errCase{
		{name: "truncated JPEG", key: key, body: j(with(ok, "target_img", enc(group[:len(group)/2]))), status: 400, msg: "truncated"},
		{name: "truncated PNG", key: key, body: j(with(ok, "target_img", enc(portrait[:len(portrait)/2]))), status: 400, msg: "truncated"},
		{name: "PNG signature, JPEG inside", key: key, body: j(with(ok, "target_img", enc(append([]byte("\x89PNG\r\n\x1a\n"), group...)))), status: 400, msg: "target_img"},
		// The classic GIF/JavaScript polyglot: its "logical screen" is the
		// text "=1" and ";a", so it claims 12605x24891 pixels.
		{name: "GIF/JavaScript polyglot", key: key, body: j(with(ok, "target_img", enc([]byte("GIF89a=1;alert(document.domain)//\x00\x00")))), status: 413, msg: "12605x24891"},
		{name: "GIF header, script after", key: key, body: j(with(ok, "target_img", enc([]byte("GIF89a\x01\x00\x01\x00\x00\x00\x00*/=1;alert(1)//")))), status: 400, msg: "target_img"},
		{name: "SVG with a script", key: key, body: j(with(ok, "target_img", enc([]byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`)))), status: 400, msg: "unsupported format"},
		{name: "HTML", key: key, body: j(with(ok, "source_img", "data:image/png;base64,"+enc([]byte("<html><script>alert(1)</script></html>")))), status: 400, msg: "unsupported format"},
	})

	// A JPEG with a ZIP archive appended (a JPEG/ZIP polyglot) is a JPEG:
	// it is decoded, swapped and re-encoded, and nothing of the archive
	// reaches the answer. A data URI's declared type is not trusted either.
	payload := []byte("PK\x03\x04polyglot-payload-that-must-not-come-back")
	r := s.swap(key, with(ok, "target_img", enc(append(bytes.Clone(group), payload...))))
	if r.StatusCode != 200 {
		t.Fatalf("JPEG+ZIP: status %d: %s", r.StatusCode, r.body)
	}
	if bytes.Contains(r.body, []byte("polyglot-payload")) || bytes.Contains(r.body, []byte("PK\x03\x04")) {
		t.Error("the appended archive came back in the answer")
	}
	r = s.swap(key, with(ok, "target_img", "data:image/gif;base64,"+enc(portrait)))
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "image/jpeg" {
		t.Errorf("PNG declared as GIF: status %d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
	if got := s.balance(id); got != 8 {
		t.Errorf("balance %d after two 200s, want 8", got)
	}
}

func TestHugeJSON(t *testing.T) {
	s := start(t, nil)
	key, id := s.key(faceswap.KeyOptions{Credits: 10})
	ok := small(t)
	deep := []byte(`{"source_img": "x", "target_img": ` + strings.Repeat("[", 100_000) + `]}`)
	runErrCases(t, s, id, []errCase{
		{name: "nesting 100000 deep", key: key, body: deep, status: 400, msg: "nests arrays or objects more than 10000 deep"},
	})
	// 5000 unknown fields are ignored; the Warning header names 20 of them.
	fields := with(ok)
	for i := range 5000 {
		fields[fmt.Sprintf("unknown_%04d", i)] = i
	}
	r := s.swap(key, fields)
	warn := r.Header.Get("Warning")
	if r.StatusCode != 200 || !strings.Contains(warn, "and 4980 more") || len(warn) > 600 {
		t.Errorf("status %d, Warning %d bytes: %.200s", r.StatusCode, len(warn), warn)
	}
}

// rawRequest writes a request's head to a new connection and returns it.
func rawRequest(t *testing.T, s *srv, head string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, head); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSlowBody: a client that sends its headers and then trickles the body
// (slow-loris) is answered 408 once its pace is too slow — here, at the
// request's deadline of 2 s — and its place in the pool is given back.
func TestSlowBody(t *testing.T) {
	s := start(t, func(c *server.Config) { c.Deadline = 2 * time.Second; c.Workers = 1; c.Queue = 0 })
	key, id := s.key(faceswap.KeyOptions{Credits: 10})
	c := rawRequest(t, s, "POST /v1/faceswap-v3-multifaceswap HTTP/1.1\r\nHost: x\r\nx-api-key: "+key+
		"\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")
	done := make(chan struct{})
	go func() { // one byte every 100 ms, far below the minimum pace
		defer close(done)
		for range 100 {
			time.Sleep(100 * time.Millisecond)
			if _, err := c.Write([]byte(" ")); err != nil {
				return
			}
		}
	}()
	// While it trickles, it holds the only place: another request is a 503.
	time.Sleep(300 * time.Millisecond)
	if r := s.swap(key, small(t)); r.StatusCode != 503 {
		t.Errorf("while the slow body holds the place: status %d, want 503", r.StatusCode)
	}
	begin := time.Now()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	waited := time.Since(begin) + 300*time.Millisecond
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(body), "arrived too slowly") {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	s.api.check(t, "POST", "/v1/faceswap-v3-multifaceswap", &response{resp, body})
	t.Logf("408 after %v", waited.Round(100*time.Millisecond))
	c.Close()
	<-done
	// The place is free again, and nothing was charged.
	if r := s.swap(key, small(t)); r.StatusCode != 200 {
		t.Errorf("after the 408: status %d: %s", r.StatusCode, r.body)
	}
	if got := s.balance(id); got != 9 {
		t.Errorf("balance %d, want 9 (one 200)", got)
	}
}

// TestSlowHeaders: a connection that never finishes its request head is
// closed after the server's ReadHeaderTimeout (10 s) without holding a
// place in the pool.
func TestSlowHeaders(t *testing.T) {
	if testing.Short() {
		t.Skip("waits 10 s")
	}
	t.Parallel()
	s := start(t, func(c *server.Config) { c.Workers = 1; c.Queue = 0 })
	key, _ := s.key(faceswap.KeyOptions{Credits: 10})
	c := rawRequest(t, s, "POST /v1/faceswap-v3-multifaceswap HTTP/1.1\r\nHost: x\r\nx-api-key: ")
	if r := s.swap(key, small(t)); r.StatusCode != 200 {
		t.Errorf("while a head trickles: status %d", r.StatusCode)
	}
	begin := time.Now()
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	n, err := io.Copy(io.Discard, c) // the server closes the connection
	if err != nil {
		t.Fatalf("after %v: %v", time.Since(begin), err)
	}
	if d := time.Since(begin); d > 15*time.Second {
		t.Errorf("closed after %v", d)
	}
	t.Logf("closed after %v (%d bytes sent back)", time.Since(begin).Round(100*time.Millisecond), n)
}

// TestRedirectLoop: a URL that redirects to itself is refused after 3
// redirects, as a 400.
func TestRedirectLoop(t *testing.T) {
	loop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Path, http.StatusFound)
	}))
	defer loop.Close()
	s := start(t, nil)
	key, id := s.key(faceswap.KeyOptions{Credits: 10})
	runErrCases(t, s, id, []errCase{
		{name: "redirect loop", key: key, body: jsonBody(t, with(small(t), "target_img", loop.URL+"/loop.jpg")), status: 400, msg: "redirected more than 3 times"},
	})
}
