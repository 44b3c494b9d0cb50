package server_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image"
	"mime/multipart"
	"strings"
	"testing"

	"faceswap"
	"faceswap/httpapi"
	"faceswap/imageio"
	"faceswap/internal/testenv"
)

// seedRequest is the hosted API's example request (seed/faceswap-v3-
// multifaceswap.txt), field for field, with the two images replaced.
func seedRequest(source, target string) map[string]any {
	return map[string]any{
		"source_img":           source,
		"target_img":           target,
		"input_faces_index":    "0,1,2",
		"source_faces_index":   "0,1,2",
		"face_restore":         "disable",
		"interpolation":        "Bilinear",
		"detection_face_order": "left-right",
		"facedetection":        "retinaface_resnet50",
		"detect_gender_input":  "no",
		"detect_gender_source": "no",
		"face_restore_weight":  0.75,
		"image_format":         "jpeg",
		"image_quality":        95,
		"base64":               false,
	}
}

// The seed's source has three faces (the Apollo 11 crew), its target is a
// group photo; ours: the three women of one demo photo into another of
// five (1280x932), photos every machine has after set-up.
const (
	seedSource = testenv.Group3
	seedTarget = testenv.Group5
)

// meanDiff is the mean absolute RGB difference of a and b inside box.
func meanDiff(a, b *image.NRGBA, box [4]float64) float64 {
	r := image.Rect(int(box[0]), int(box[1]), int(box[0]+box[2]), int(box[1]+box[3])).Intersect(a.Rect)
	var sum, n float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			i, j := a.PixOffset(x, y), b.PixOffset(x, y)
			for c := 0; c < 3; c++ {
				d := float64(a.Pix[i+c]) - float64(b.Pix[j+c])
				if d < 0 {
					d = -d
				}
				sum += d
			}
			n += 3
		}
	}
	return sum / n
}

// checkSeedResult checks a seed-shaped answer as the swap issue's tests
// do: a JPEG at the target's size with three faces swapped, the three
// leftmost faces of the target changed and the other two left alone.
func checkSeedResult(t *testing.T, s *srv, key string, r *response) {
	t.Helper()
	if r.StatusCode != 200 {
		t.Fatalf("status %d: %s", r.StatusCode, r.body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "image/jpeg" {
		t.Errorf("Content-Type %q", ct)
	}
	if n := r.Header.Get("X-Faces-Swapped"); n != "3" {
		t.Errorf("X-Faces-Swapped %q, want 3", n)
	}
	st := r.Header.Get("Server-Timing")
	for _, stage := range []string{"fetch;dur=", "queue;dur=", "decode;dur=", "detect;dur=", "select;dur=", "swap;dur=", "encode;dur="} {
		if !strings.Contains(st, stage) {
			t.Errorf("Server-Timing %q lacks %s", st, stage)
		}
	}
	// The second pair (a woman turned to the image's left, mouth closed,
	// into one turned to its right and laughing) is beyond the engine.
	checkQuality(t, r, []int{0, 1, 2}, "1=pose-gap+expression-gap")
	out, info, err := imageio.Decode(r.body, imageio.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if info.Format != "jpeg" || out.Rect.Dx() != 1280 || out.Rect.Dy() != 932 {
		t.Fatalf("result %s %v, want a 1280x932 jpeg", info.Format, out.Rect)
	}
	target, _, err := imageio.Decode(photo(t, seedTarget), imageio.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	faces := s.faces(key, map[string]any{"image": b64(t, seedTarget), "detection_face_order": "left-right"})
	if len(faces) != 5 {
		t.Fatalf("%d faces in the target, want 5", len(faces))
	}
	// On these photos a swapped face differs by 15-16 levels on average
	// inside its box; an untouched one only by the JPEG re-encoding (< 1).
	for i, f := range faces {
		d := meanDiff(out, target, f.Box)
		swapped := i < 3
		if swapped && d < 4 || !swapped && d > 2 {
			t.Errorf("face %d (box %v): mean difference %.1f, swapped=%v", i, f.Box, d, swapped)
		}
	}
}

type face struct {
	Index  int
	Box    [4]float64
	Score  float64
	Gender string
}

// faces calls /v1/faces.
func (s *srv) faces(key string, req map[string]any) []face {
	s.t.Helper()
	r := s.swapLike("/v1/faces", key, req)
	if r.StatusCode != 200 {
		s.t.Fatalf("/v1/faces: %d %s", r.StatusCode, r.body)
	}
	var out struct {
		Width, Height int
		Faces         []face
	}
	if err := json.Unmarshal(r.body, &out); err != nil {
		s.t.Fatal(err)
	}
	return out.Faces
}

// TestSeedRequestURLs: the seed's example request with its two images as
// URLs of a loopback server (allow-listed) swaps three faces and charges
// one credit.
func TestSeedRequestURLs(t *testing.T) {
	s := start(t, nil)
	ph := newPhotos(t)
	key, id := s.key(faceswap.KeyOptions{Credits: 5})
	r := s.swap(key, seedRequest(ph.image(seedSource), ph.image(seedTarget)))
	checkSeedResult(t, s, key, r)
	wantMetered(t, r, 4)
	if got := s.balance(id); got != 4 {
		t.Errorf("balance %d, want 4", got)
	}
	for _, h := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} {
		if r.Header.Get(h) == "" {
			t.Errorf("no %s", h)
		}
	}
	if w := r.Header.Get("Warning"); w != "" {
		t.Errorf("Warning %q for a request without unknown fields", w)
	}
}

// TestSeedRequestBase64: the same with the images as raw base64 and as
// data URIs.
func TestSeedRequestBase64(t *testing.T) {
	s := start(t, nil)
	key, id := s.key(faceswap.KeyOptions{Credits: 5})
	r := s.swap(key, seedRequest(b64(t, seedSource), b64(t, seedTarget)))
	checkSeedResult(t, s, key, r)
	r = s.swap(key, seedRequest("data:image/jpeg;base64,"+b64(t, seedSource), "data:image/jpeg;base64,"+b64(t, seedTarget)))
	checkSeedResult(t, s, key, r)
	if got := s.balance(id); got != 3 {
		t.Errorf("balance %d, want 3", got)
	}
}

// TestBase64Output: base64:true answers JSON {"image", "faces_swapped",
// "timings_ms"} (validated against the OpenAPI schema by do).
func TestBase64Output(t *testing.T) {
	s := start(t, nil)
	key, _ := s.key(faceswap.KeyOptions{Credits: 5})
	r := s.swap(key, with(small(t), "base64", true, "image_format", "png"))
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("%d %s: %.200s", r.StatusCode, r.Header.Get("Content-Type"), r.body)
	}
	v := r.json(t)
	data, err := base64.StdEncoding.DecodeString(v["image"].(string))
	if err != nil {
		t.Fatal(err)
	}
	info, err := imageio.DecodeConfig(data, imageio.DefaultLimits)
	if err != nil || info.Format != "png" || info.Width != 400 || info.Height != 400 {
		t.Errorf("image: %+v %v", info, err)
	}
	if v["faces_swapped"].(float64) != 1 {
		t.Errorf("faces_swapped %v", v["faces_swapped"])
	}
	// The 50-px face into the 170-px one is not poor: a quality, no reasons.
	checkQuality(t, r, []int{0}, "")
	if fq, _ := v["faces_quality"].([]any); len(fq) != 1 || fq[0].(map[string]any)["index"] != 0.0 || fq[0].(map[string]any)["poor"] != nil {
		t.Errorf("faces_quality %v, want one face of no concern", v["faces_quality"])
	}
	tm := v["timings_ms"].(map[string]any)
	for _, stage := range []string{"fetch", "queue", "decode", "detect", "select", "swap", "encode"} {
		if _, ok := tm[stage]; !ok {
			t.Errorf("timings_ms lacks %s: %v", stage, tm)
		}
	}
	wantMetered(t, r, 4)
}

// TestOutputFormats: png and webp (any case) answer those types at the
// target's size; image_quality changes the JPEG.
func TestOutputFormats(t *testing.T) {
	s := start(t, nil)
	key, _ := s.key(faceswap.KeyOptions{Credits: 10})
	for _, c := range []struct{ format, ctype, decoded string }{
		{"png", "image/png", "png"},
		{"WEBP", "image/webp", "webp"},
		{"Jpeg", "image/jpeg", "jpeg"},
	} {
		r := s.swap(key, with(small(t), "image_format", c.format, "interpolation", "lanczos", "detection_face_order", "LEFT-RIGHT"))
		if r.StatusCode != 200 || r.Header.Get("Content-Type") != c.ctype {
			t.Errorf("%s: %d %q %.200s", c.format, r.StatusCode, r.Header.Get("Content-Type"), r.body)
			continue
		}
		info, err := imageio.DecodeConfig(r.body, imageio.DefaultLimits)
		if err != nil || info.Format != c.decoded || info.Width != 400 || info.Height != 400 {
			t.Errorf("%s: %+v %v", c.format, info, err)
		}
	}
	lo := s.swap(key, with(small(t), "image_quality", 10))
	hi := s.swap(key, with(small(t), "image_quality", 100))
	if lo.StatusCode != 200 || hi.StatusCode != 200 || len(lo.body) >= len(hi.body) {
		t.Errorf("image_quality 10 gave %d bytes, 100 gave %d", len(lo.body), len(hi.body))
	}
}

// TestMultipart: images as file parts, the other fields as text parts
// (numbers and booleans as text); an unknown part is listed in Warning.
func TestMultipart(t *testing.T) {
	s := start(t, nil)
	key, id := s.key(faceswap.KeyOptions{Credits: 5})
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, f := range []struct{ field, name string }{{"source_img", testenv.Tiny}, {"target_img", testenv.Portrait2}} {
		w, err := mw.CreateFormFile(f.field, f.name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(photo(t, f.name))
	}
	for k, v := range map[string]string{"image_format": "webp", "image_quality": "80", "base64": "true", "face_restore_weight": "0.5", "input_faces_index": "0", "colour": "blue"} {
		mw.WriteField(k, v)
	}
	mw.Close()
	r := s.do("POST", "/v1/faceswap-v3-multifaceswap", key, mw.FormDataContentType(), body.Bytes())
	if r.StatusCode != 200 {
		t.Fatalf("%d %s", r.StatusCode, r.body)
	}
	data, err := base64.StdEncoding.DecodeString(r.json(t)["image"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if info, err := imageio.DecodeConfig(data, imageio.DefaultLimits); err != nil || info.Format != "webp" {
		t.Errorf("image %+v %v", info, err)
	}
	if w := r.Header.Get("Warning"); w != `299 - "unknown fields ignored: colour"` {
		t.Errorf("Warning %q", w)
	}
	if s.balance(id) != 4 {
		t.Errorf("balance %d, want 4", s.balance(id))
	}
	// A multipart image can also be a text part holding a URL or base64.
	body.Reset()
	mw = multipart.NewWriter(&body)
	mw.WriteField("source_img", b64(t, testenv.Tiny))
	mw.WriteField("target_img", b64(t, testenv.Portrait2))
	mw.Close()
	r = s.do("POST", "/v1/faceswap-v3-multifaceswap", key, mw.FormDataContentType(), body.Bytes())
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "image/jpeg" {
		t.Errorf("text parts: %d %s", r.StatusCode, r.body)
	}
}

// TestUnknownFieldsWarning: unknown JSON fields are ignored and listed,
// sorted, in one RFC 7234 Warning header.
func TestUnknownFieldsWarning(t *testing.T) {
	s := start(t, nil)
	key, _ := s.key(faceswap.KeyOptions{Credits: 5})
	r := s.swap(key, with(small(t), "zeta", 1, "alpha", "x", "webhook", "https://example.com/hook"))
	if r.StatusCode != 200 {
		t.Fatalf("%d %s", r.StatusCode, r.body)
	}
	if w := r.Header.Get("Warning"); w != `299 - "unknown fields ignored: alpha, webhook, zeta"` {
		t.Errorf("Warning %q", w)
	}
}

// TestFacesEndpoint: /v1/faces numbers faces like a swap would, costs
// nothing but needs a key and counts against the rate limit. (Its gender
// filter is TestFacesGenderFilter's.)
func TestFacesEndpoint(t *testing.T) {
	s := start(t, nil)
	ph := newPhotos(t)
	key, id := s.key(faceswap.KeyOptions{Credits: 3, RatePerMinute: 1000})
	all := s.faces(key, map[string]any{"image": ph.image(seedTarget), "detection_face_order": "left-right"})
	if len(all) != 5 {
		t.Fatalf("%d faces, want 5", len(all))
	}
	for i, f := range all {
		if f.Index != i || i > 0 && f.Box[0] < all[i-1].Box[0] || f.Score <= 0 || f.Gender == "" {
			t.Errorf("face %d: %+v", i, f)
		}
	}
	bySize := s.faces(key, map[string]any{"image": b64(t, seedTarget)})
	if len(bySize) != len(all) {
		t.Fatalf("%d faces in the default order, %d left to right", len(bySize), len(all))
	}
	for i := 1; i < len(bySize); i++ {
		if bySize[i].Box[2]*bySize[i].Box[3] > bySize[i-1].Box[2]*bySize[i-1].Box[3] {
			t.Errorf("default order is not large-small: %v", bySize)
		}
	}
	r := s.swapLike("/v1/faces", key, map[string]any{"image": b64(t, testenv.NoFace)})
	if r.StatusCode != 200 || !strings.Contains(string(r.body), `"faces":[]`) {
		t.Errorf("no face: %d %s", r.StatusCode, r.body)
	}
	if r.Header.Get("X-RateLimit-Limit") != "1000" {
		t.Errorf("X-RateLimit-Limit %q", r.Header.Get("X-RateLimit-Limit"))
	}
	wantMetered(t, r, 3)
	if s.balance(id) != 3 {
		t.Errorf("faces charged credits: %d", s.balance(id))
	}
	for _, c := range []struct {
		req    map[string]any
		status int
		msg    string
	}{
		{map[string]any{}, 400, "image is required"},
		{map[string]any{"image": b64(t, seedTarget), "detect_gender": "x"}, 400, `detect_gender "x" is not one of`},
		{map[string]any{"image": b64(t, seedTarget), "detection_face_order": "up"}, 400, `detection_face_order "up"`},
		{map[string]any{"image": "bm90IGFuIGltYWdl"}, 400, "image: "},
	} {
		r := s.swapLike("/v1/faces", key, c.req)
		if r.StatusCode != c.status || !strings.Contains(r.errorMessage(t), c.msg) {
			t.Errorf("%v: %d %s", c.req, r.StatusCode, r.body)
		}
	}
	// The image can be a multipart file part.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	w, _ := mw.CreateFormFile("image", "group.jpg")
	w.Write(photo(t, seedTarget))
	mw.WriteField("detection_face_order", "right-left")
	mw.Close()
	r = s.do("POST", "/v1/faces", key, mw.FormDataContentType(), body.Bytes())
	var mp struct{ Faces []face }
	if r.StatusCode != 200 || json.Unmarshal(r.body, &mp) != nil || len(mp.Faces) != 5 || mp.Faces[0].Box != all[4].Box {
		t.Errorf("multipart: %d %.300s", r.StatusCode, r.body)
	}
	if r := s.swapLike("/v1/faces", "", map[string]any{"image": "x"}); r.StatusCode != 401 {
		t.Errorf("no key: %d", r.StatusCode)
	}
}

// TestFacesGenderFilter: detect_gender keeps only the faces judged of that
// gender, in the default large-small order. It needs a photo of women and
// men: the shared one of an office meeting (the demo photos are all women).
func TestFacesGenderFilter(t *testing.T) {
	office := base64.StdEncoding.EncodeToString(sharedPhoto(t, "group5_office_meeting.jpg"))
	s := start(t, nil)
	key, _ := s.key(faceswap.KeyOptions{Credits: 3, RatePerMinute: 1000})
	all := s.faces(key, map[string]any{"image": office})
	for _, c := range []struct{ param, gender string }{{"Female", "female"}, {"Male", "male"}} {
		gender := c.gender
		got := s.faces(key, map[string]any{"image": office, "detect_gender": c.param})
		var want []face
		for _, f := range all {
			if f.Gender == gender {
				want = append(want, f)
			}
		}
		if len(want) == 0 || len(want) == len(all) {
			t.Fatalf("%d of %d faces judged %s: the photo cannot show the filter", len(want), len(all), gender)
		}
		if len(got) != len(want) {
			t.Errorf("detect_gender %s: %d faces, %d of %d faces judged %s", gender, len(got), len(want), len(all), gender)
			continue
		}
		for i, f := range got {
			if f.Index != i || f.Gender != gender || f.Box != want[i].Box {
				t.Errorf("detect_gender %s, face %d: %+v, want index %d and box %v (the %s faces, largest first)", gender, i, f, i, want[i].Box, gender)
			}
		}
	}
}

// TestCredits: /v1/get-user-credits answers the calling key's balance.
func TestCredits(t *testing.T) {
	s := start(t, nil)
	key, _ := s.key(faceswap.KeyOptions{Credits: 7, FreeCredits: 2})
	r := s.do("GET", "/v1/get-user-credits", key, "", nil)
	if r.StatusCode != 200 || string(bytes.TrimSpace(r.body)) != `{"credits":7,"free-credits":2}` {
		t.Errorf("%d %s", r.StatusCode, r.body)
	}
	wantMetered(t, r, 9)
	if r := s.do("GET", "/v1/get-user-credits", "", "", nil); r.StatusCode != 401 {
		t.Errorf("no key: %d", r.StatusCode)
	}
}

// TestHealthAndDocs: /healthz, /readyz and /openapi.json.
func TestHealthAndDocs(t *testing.T) {
	s := start(t, nil)
	for _, p := range []string{"/healthz", "/readyz"} {
		if r := s.do("GET", p, "", "", nil); r.StatusCode != 200 {
			t.Errorf("%s: %d %s", p, r.StatusCode, r.body)
		}
	}
	r := s.do("GET", "/openapi.json", "", "", nil)
	if r.StatusCode != 200 || !bytes.Equal(r.body, httpapi.OpenAPI) || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("/openapi.json: %d %q", r.StatusCode, r.Header.Get("Content-Type"))
	}
}
