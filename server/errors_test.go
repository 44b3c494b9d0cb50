package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"image"
	"strconv"
	"strings"
	"testing"
	"time"

	"faceswap"
	"faceswap/internal/testenv"
	"faceswap/server"
	"faceswap/swap"
)

// pngHeader returns the start of a PNG that claims w×h pixels: enough for
// the dimension check, which must refuse it before any decoding.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	chunk := append([]byte("IHDR"), ihdr...)
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

// errCase is one request that must fail with status and a message holding
// msg, leaving the key's balance as it was.
type errCase struct {
	name   string
	key    string // "" for none; set by the test for the usual key
	method string
	path   string
	ctype  string
	body   []byte
	status int
	msg    string
	// unmetered: answered before the key is looked at (unknown path,
	// wrong method), so without X-Remaining-Credits.
	unmetered bool
}

func jsonBody(t testing.TB, v map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// runErrCases sends every case and checks status, message, the metered
// headers when a key was given, and that nothing was charged.
func runErrCases(t *testing.T, s *srv, id string, cases []errCase) {
	t.Helper()
	for _, c := range cases {
		before := s.balance(id)
		method, path, ctype := c.method, c.path, c.ctype
		if method == "" {
			method = "POST"
		}
		if path == "" {
			path = "/v1/faceswap-v3-multifaceswap"
		}
		if ctype == "" && method == "POST" {
			ctype = "application/json"
		}
		r := s.do(method, path, c.key, ctype, c.body)
		if r.StatusCode != c.status {
			t.Errorf("%s: status %d, want %d: %s", c.name, r.StatusCode, c.status, r.body)
			continue
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s: Content-Type %q", c.name, ct)
		}
		msg := r.errorMessage(t)
		if !strings.Contains(msg, c.msg) {
			t.Errorf("%s: message %q lacks %q", c.name, msg, c.msg)
		}
		if !strings.HasSuffix(msg, ".") || strings.Count(msg, ". ") > 0 && !strings.Contains(msg, "e.g.") {
			t.Errorf("%s: %q is not one sentence", c.name, msg)
		}
		if r.Header.Get("X-Request-Id") == "" {
			t.Errorf("%s: no X-Request-Id", c.name)
		}
		if c.key != "" && !c.unmetered && c.status != 401 && c.status != 403 && r.Header.Get("X-Remaining-Credits") != strconv.FormatInt(before, 10) {
			t.Errorf("%s: X-Remaining-Credits %q, want %d", c.name, r.Header.Get("X-Remaining-Credits"), before)
		}
		if after := s.balance(id); after != before {
			t.Errorf("%s: balance %d -> %d on a %d", c.name, before, after, r.StatusCode)
		}
	}
}

// TestErrorStatuses: one request per row of SPEC §4 that a single server
// can produce, each with its status and a clear message, none charged.
func TestErrorStatuses(t *testing.T) {
	s := start(t, nil)
	ph := newPhotos(t)
	key, id := s.key(faceswap.KeyOptions{Credits: 10})
	poor, poorID := s.key(faceswap.KeyOptions{Credits: 0})
	disabled, disabledID := s.key(faceswap.KeyOptions{Credits: 10})
	if err := s.db.DisableKey(context.Background(), disabledID); err != nil {
		t.Fatal(err)
	}
	ok := small(t)
	group := map[string]any{"source_img": b64(t, seedSource), "target_img": b64(t, seedSource)}
	j := func(v map[string]any) []byte { return jsonBody(t, v) }
	huge := base64.StdEncoding.EncodeToString(pngHeader(10000, 10000))
	closed := closedPort(t)
	_, port, _ := strings.Cut(ph.URL, "127.0.0.1:")

	runErrCases(t, s, id, []errCase{
		// 400
		{name: "malformed JSON", key: key, body: []byte(`{"source_img": "abc",`), status: 400, msg: "The request body is not valid JSON"},
		{name: "JSON array", key: key, body: []byte(`[1,2]`), status: 400, msg: "must be a JSON object"},
		{name: "empty body", key: key, body: nil, status: 400, msg: "The request body is empty"},
		{name: "missing target", key: key, body: j(map[string]any{"source_img": ok["source_img"]}), status: 400, msg: "target_img is required"},
		{name: "bad enum", key: key, body: j(with(ok, "image_format", "bmp")), status: 400, msg: `image_format "bmp"`},
		{name: "bad order", key: key, body: j(with(ok, "detection_face_order", "diagonal")), status: 400, msg: `detection_face_order "diagonal" is not one of`},
		{name: "bad gender", key: key, body: j(with(ok, "detect_gender_input", "other")), status: 400, msg: `detect_gender_input "other"`},
		{name: "bad index list", key: key, body: j(with(ok, "input_faces_index", "0,x")), status: 400, msg: `input_faces_index "0,x"`},
		{name: "negative index", key: key, body: j(with(ok, "source_faces_index", "-1")), status: 400, msg: `source_faces_index "-1"`},
		{name: "count mismatch", key: key, body: j(with(ok, "input_faces_index", "0,1,2", "source_faces_index", "0,1")), status: 400, msg: "source_faces_index has 2 indices and input_faces_index has 3"},
		{name: "quality range", key: key, body: j(with(ok, "image_quality", 5)), status: 400, msg: "image_quality must be an integer from 10 to 100, got 5"},
		{name: "quality type", key: key, body: j(with(ok, "image_quality", "95")), status: 400, msg: "image_quality must be an integer from 10 to 100"},
		{name: "quality fraction", key: key, body: j(with(ok, "image_quality", 90.5)), status: 400, msg: "image_quality must be an integer"},
		{name: "weight range", key: key, body: j(with(ok, "face_restore_weight", 1.5)), status: 400, msg: "face_restore_weight must be a number from 0 to 1, got 1.5"},
		{name: "base64 type", key: key, body: j(with(ok, "base64", "yes")), status: 400, msg: "base64 must be true or false"},
		{name: "string field type", key: key, body: j(with(ok, "interpolation", 3)), status: 400, msg: "interpolation must be a string"},
		{name: "undecodable image", key: key, body: j(with(ok, "source_img", base64.StdEncoding.EncodeToString([]byte("not an image at all")))), status: 400, msg: "source_img"},
		{name: "bad base64", key: key, body: j(with(ok, "target_img", "@@@not base64@@@")), status: 400, msg: "target_img"},
		{name: "refused scheme", key: key, body: j(with(ok, "source_img", "ftp://example.com/face.jpg")), status: 400, msg: "source_img uses the ftp scheme"},
		{name: "file scheme", key: key, body: j(with(ok, "target_img", "file:///etc/passwd")), status: 400, msg: "target_img uses the file scheme"},
		{name: "private address", key: key, body: j(with(ok, "source_img", "http://10.1.2.3/face.jpg")), status: 400, msg: "private or loopback address"},
		{name: "metadata address", key: key, body: j(with(ok, "source_img", "http://169.254.169.254/latest/meta-data/")), status: 400, msg: "private or loopback address"},
		{name: "loopback not allow-listed", key: key, body: j(with(ok, "source_img", "http://[::1]:"+port+"/images/"+seedSource)), status: 400, msg: "private or loopback address"},
		{name: "redirect to a private address", key: key, body: j(with(ok, "source_img", ph.URL+"/redirect?to=http://192.168.1.10/face.jpg")), status: 400, msg: "redirected to a private or loopback address"},
		{name: "redirect to metadata", key: key, body: j(with(ok, "target_img", ph.URL+"/redirect?to=http://169.254.169.254/latest/meta-data/")), status: 400, msg: "redirected to a private or loopback address"},
		{name: "redirect to an allowed photo", key: key, body: j(with(ok, "target_img", ph.URL+"/redirect?to=/images/"+testenv.NoFace)), status: 422, msg: "No face was found in target_img"},
		// 401, 403
		{name: "missing key", body: j(ok), status: 401, msg: "x-api-key header is missing"},
		{name: "unknown key", key: "fs_thisKeyDoesNotExist0000000000000", body: j(ok), status: 401, msg: "key is unknown"},
		{name: "disabled key", key: disabled, body: j(ok), status: 403, msg: "disabled"},
		// 404, 405
		{name: "unknown path", key: key, method: "GET", path: "/v1/nothing-here", status: 404, msg: "no such endpoint", unmetered: true},
		{name: "GFPGAN not installed", key: key, body: j(with(ok, "face_restore", "GFPGANv1.4.pth")), status: 404, msg: `faceswap models pull GFPGANv1.4`},
		{name: "swap model not installed", key: key, body: j(with(ok, "swap_model", "no-such-engine")), status: 404, msg: `swap_model "no-such-engine" is not installed`},
		{name: "wrong method", key: key, method: "GET", path: "/v1/faceswap-v3-multifaceswap", status: 405, msg: "GET is not allowed on /v1/faceswap-v3-multifaceswap; use POST", unmetered: true},
		{name: "wrong method credits", key: key, method: "POST", path: "/v1/get-user-credits", status: 405, msg: "use GET", unmetered: true},
		// 413
		{name: "over the pixel limit", key: key, body: j(with(ok, "target_img", huge)), status: 413, msg: "target_img"},
		// 422
		{name: "no face in source", key: key, body: j(with(ok, "source_img", b64(t, testenv.NoFace))), status: 422, msg: "No face was found in source_img"},
		{name: "index out of range", key: key, body: j(with(group, "input_faces_index", "3")), status: 422, msg: "input_faces_index 3 is out of range: target_img has 3 faces (0-2)"},
		{name: "source index out of range", key: key, body: j(with(group, "source_faces_index", "7")), status: 422, msg: "source_faces_index 7 is out of range"},
		// 502
		{name: "unreachable allow-listed URL", key: key, body: j(with(ok, "source_img", "http://"+closed+"/face.jpg")), status: 502, msg: "could not be fetched"},
		{name: "upstream 500", key: key, body: j(with(ok, "target_img", ph.URL+"/status/500")), status: 502, msg: "500"},
	})
	// 406: a key without credits, refused before any work.
	runErrCases(t, s, poorID, []errCase{
		{name: "insufficient credits", key: poor, body: j(ok), status: 406, msg: "Insufficient credits"},
	})
	// The disabled key was not charged either.
	if s.balance(disabledID) != 10 {
		t.Errorf("disabled key balance %d", s.balance(disabledID))
	}
}

// TestErrorStatusesSmallLimits: 413 for a body and an image over small
// configured limits.
func TestErrorStatusesSmallLimits(t *testing.T) {
	s := start(t, func(c *server.Config) {
		c.MaxBody = 200 << 10
		c.MaxImageBytes = 50 << 10
	})
	key, id := s.key(faceswap.KeyOptions{Credits: 10})
	big := strings.Repeat("A", 300<<10)
	ok := small(t) // 27 KB and 213 KB: the target is over 50 KB
	runErrCases(t, s, id, []errCase{
		{name: "body too big", key: key, body: jsonBody(t, with(ok, "padding", big)), status: 413, msg: "The request body is over the server's limit of 200 KB"},
		{name: "image too big", key: key, body: jsonBody(t, map[string]any{"source_img": ok["source_img"], "target_img": b64(t, seedSource)}), status: 413, msg: "target_img"},
	})
}

// TestRateLimit: a key limited to 2 requests a minute gets a 429 on the
// third, with Retry-After and the X-RateLimit headers, and is not charged.
func TestRateLimit(t *testing.T) {
	s := start(t, nil)
	key, id := s.key(faceswap.KeyOptions{Credits: 10, RatePerMinute: 2})
	for i := 0; i < 2; i++ {
		r := s.do("POST", "/v1/faceswap-v3-multifaceswap", key, "application/json", []byte(`{}`))
		if r.StatusCode != 400 || r.Header.Get("X-RateLimit-Limit") != "2" || r.Header.Get("X-RateLimit-Remaining") != strconv.Itoa(1-i) {
			t.Errorf("request %d: %d, limit %q remaining %q", i, r.StatusCode, r.Header.Get("X-RateLimit-Limit"), r.Header.Get("X-RateLimit-Remaining"))
		}
	}
	r := s.swap(key, small(t))
	if r.StatusCode != 429 {
		t.Fatalf("third request: %d %s", r.StatusCode, r.body)
	}
	if msg := r.errorMessage(t); !strings.Contains(msg, "Rate limit exceeded: this key may make 2 requests per minute") {
		t.Errorf("message %q", msg)
	}
	ra, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || ra < 1 || ra > 60 {
		t.Errorf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	reset, err := strconv.ParseInt(r.Header.Get("X-RateLimit-Reset"), 10, 64)
	if err != nil || reset < time.Now().Unix() || reset > time.Now().Add(2*time.Minute).Unix() {
		t.Errorf("X-RateLimit-Reset %q", r.Header.Get("X-RateLimit-Reset"))
	}
	if r.Header.Get("X-RateLimit-Limit") != "2" || r.Header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("limit %q remaining %q", r.Header.Get("X-RateLimit-Limit"), r.Header.Get("X-RateLimit-Remaining"))
	}
	wantMetered(t, r, 10)
	if s.balance(id) != 10 {
		t.Errorf("balance %d", s.balance(id))
	}
	// The server default applies to keys without their own limit.
	s2 := start(t, func(c *server.Config) { c.RatePerMinute = 1 })
	k2, _ := s2.key(faceswap.KeyOptions{Credits: 1})
	s2.do("GET", "/v1/get-user-credits", k2, "", nil) // not rate limited
	if r := s2.do("POST", "/v1/faces", k2, "application/json", []byte(`{}`)); r.StatusCode != 400 {
		t.Errorf("first: %d", r.StatusCode)
	}
	if r := s2.do("POST", "/v1/faces", k2, "application/json", []byte(`{}`)); r.StatusCode != 429 || r.Header.Get("X-RateLimit-Limit") != "1" {
		t.Errorf("second: %d, limit %q", r.StatusCode, r.Header.Get("X-RateLimit-Limit"))
	}
}

// brokenEngine fails every swap with an internal detail that must not
// reach the client.
type brokenEngine struct{}

const secretDetail = "engine exploded: tensor 7f3a shape mismatch"

func (brokenEngine) Name() string { return "broken" }
func (brokenEngine) Swap(dst, src *image.NRGBA, pairs []swap.Pair, opt swap.Options) ([]swap.Region, error) {
	return nil, errors.New(secretDetail)
}

// TestInternalError: a failing engine is a 500 whose message is generic
// and names the request id; the detail is in the log under that id; no
// credit is taken.
func TestInternalError(t *testing.T) {
	pl := *sharedPipeline(t)
	pl.Engines = map[string]swap.Engine{"broken": brokenEngine{}}
	for k, v := range sharedPipeline(t).Engines {
		pl.Engines[k] = v
	}
	s := start(t, nil, server.Deps{Pipeline: &pl})
	key, id := s.key(faceswap.KeyOptions{Credits: 3})
	r := s.swap(key, with(small(t), "swap_model", "broken"))
	if r.StatusCode != 500 {
		t.Fatalf("%d %s", r.StatusCode, r.body)
	}
	rid := r.Header.Get("X-Request-Id")
	msg := r.errorMessage(t)
	if !strings.HasPrefix(msg, "Internal server error") || !strings.Contains(msg, rid) || strings.Contains(string(r.body), "exploded") {
		t.Errorf("message %q (request id %s)", msg, rid)
	}
	found := false
	for _, line := range strings.Split(s.logs.String(), "\n") {
		if strings.Contains(line, rid) && strings.Contains(line, secretDetail) && strings.Contains(line, `"level":"ERROR"`) {
			found = true
		}
	}
	if !found {
		t.Errorf("no ERROR log line with the request id and the detail:\n%s", s.logs.String())
	}
	if s.balance(id) != 3 {
		t.Errorf("balance %d", s.balance(id))
	}
	wantMetered(t, r, 3)
}
