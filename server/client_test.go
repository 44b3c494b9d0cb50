package server_test

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"faceswap"
	"faceswap/client"
	"faceswap/imageio"
	"faceswap/internal/testenv"
)

// TestClient: the Go client against a real server with the real models:
// credits, faces by URL and inline, numbered as the swap numbers them, a
// swap whose result, headers and charge are right, and the API's errors as
// *client.Error values that cost nothing.
func TestClient(t *testing.T) {
	s := start(t, nil)
	ph := newPhotos(t)
	secret, id := s.key(faceswap.KeyOptions{Name: "client", Credits: 3, FreeCredits: 1})
	ctx := context.Background()
	c, err := client.New(s.url, secret)
	if err != nil {
		t.Fatal(err)
	}

	cr, err := c.Credits(ctx)
	if err != nil || cr.Credits != 3 || cr.FreeCredits != 1 {
		t.Fatalf("credits %+v, %v", cr, err)
	}

	// Faces, by URL (the server fetches it) and left to right.
	faces, err := c.Faces(ctx, client.FacesRequest{Image: client.ImageURL(ph.image(seedTarget)), DetectionFaceOrder: client.LeftRight})
	if err != nil {
		t.Fatal(err)
	}
	if faces.Width != 1280 || faces.Height != 932 || len(faces.Faces) != 5 {
		t.Fatalf("faces: %dx%d, %d faces", faces.Width, faces.Height, len(faces.Faces))
	}
	if !sort.SliceIsSorted(faces.Faces, func(i, j int) bool { return faces.Faces[i].Box[0] < faces.Faces[j].Box[0] }) {
		t.Errorf("left-right faces are not sorted by their left edge: %+v", faces.Faces)
	}
	for i, f := range faces.Faces {
		if f.Index != i || f.Score <= 0 || f.Box[2] <= 0 || (f.Gender != "female" && f.Gender != "male") {
			t.Errorf("face %d: %+v", i, f)
		}
	}
	if faces.RequestID == "" || faces.RemainingCredits != 4 {
		t.Errorf("faces meta %+v", faces.Meta)
	}
	// The gender filter keeps the faces found male, numbered afresh. The
	// photo is of women: the filter must drop faces, or it could not be
	// told from no filter. (TestFacesGenderFilter has a photo of both.)
	men, err := c.Faces(ctx, client.FacesRequest{Image: client.ImageBytes(photo(t, seedTarget)), DetectGender: client.Male})
	if err != nil {
		t.Fatal(err)
	}
	male := 0
	for _, f := range faces.Faces {
		if f.Gender == "male" {
			male++
		}
	}
	if male == len(faces.Faces) || len(men.Faces) != male {
		t.Errorf("%d faces with the male filter, %d of %d faces judged male without it", len(men.Faces), male, len(faces.Faces))
	}
	for i, f := range men.Faces {
		if f.Index != i || f.Gender != "male" {
			t.Errorf("male filter, face %d: %+v", i, f)
		}
	}

	// The seed's swap: the three faces of the source into the three
	// leftmost of the target.
	src, err := client.ImageFile(ph.dir + "/" + seedSource)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Swap(ctx, client.SwapRequest{
		Source:             src,
		Target:             client.ImageURL(ph.image(seedTarget)),
		SourceFacesIndex:   []int{0, 1, 2},
		InputFacesIndex:    []int{0, 1, 2},
		DetectionFaceOrder: client.LeftRight,
		Interpolation:      "Bicubic",
		ImageFormat:        "png",
	})
	if err != nil {
		t.Fatal(err)
	}
	out, info, err := imageio.Decode(res.Image, imageio.DefaultLimits)
	if err != nil || info.Format != "png" || res.ContentType != "image/png" || out.Rect.Dx() != 1280 || out.Rect.Dy() != 932 {
		t.Fatalf("result %s %v (%s), %v", info.Format, out.Rect, res.ContentType, err)
	}
	if res.FacesSwapped != 3 || res.RemainingCredits != 3 || s.balance(id) != 3 || res.RequestID == "" {
		t.Errorf("swapped %d, remaining %d (balance %d), request %q", res.FacesSwapped, res.RemainingCredits, s.balance(id), res.RequestID)
	}
	if len(res.Faces) != 3 {
		t.Errorf("the client read %d face estimates (%+v), want one per swapped face", len(res.Faces), res.Faces)
	}
	for _, f := range res.Faces {
		if f.Quality < 0 || f.Quality > 1 || (len(f.Poor) > 0 && f.Quality > 0.5) {
			t.Errorf("face estimate %+v: quality out of 0..1, or poor above 0.5", f)
		}
	}
	var stages []string
	for _, st := range res.Timings {
		stages = append(stages, st.Name)
	}
	if got := strings.Join(stages, ","); !strings.Contains(got, "decode,detect,select,swap,encode") {
		t.Errorf("timings %v", stages)
	}
	target, _, _ := imageio.Decode(photo(t, seedTarget), imageio.DefaultLimits)
	for i, f := range faces.Faces {
		if d := meanDiff(out, target, f.Box); i < 3 && d < 4 || i >= 3 && d > 1 {
			t.Errorf("face %d: mean difference %.1f (swapped: %v)", i, d, i < 3)
		}
	}

	// Errors: the API's status and sentence, nothing charged.
	for _, tc := range []struct {
		name   string
		c      *client.Client
		req    client.SwapRequest
		status int
		says   string
	}{
		{"out of range", c, client.SwapRequest{Source: src, Target: src, InputFacesIndex: []int{3}}, 422, "input_faces_index 3 is out of range"},
		{"bad enum", c, client.SwapRequest{Source: src, Target: src, ImageFormat: "gif"}, 400, "image_format"},
		{"not installed", c, client.SwapRequest{Source: src, Target: src, FaceRestore: "GFPGANv1.4.pth", FaceRestoreWeight: client.Weight(0)}, 404, "faceswap models pull"},
		{"unknown key", mustClient(t, s.url, "fs_nobody"), client.SwapRequest{Source: src, Target: src}, 401, "key"},
	} {
		_, err := tc.c.Swap(ctx, tc.req)
		var e *client.Error
		if !errors.As(err, &e) || e.Status != tc.status || !strings.Contains(e.Message, tc.says) || e.RequestID == "" {
			t.Errorf("%s: %v, want a %d saying %q", tc.name, err, tc.status, tc.says)
		}
	}
	if s.balance(id) != 3 {
		t.Errorf("balance %d after the errors, want 3", s.balance(id))
	}
	broke, _ := s.key(faceswap.KeyOptions{Name: "broke"})
	_, err = mustClient(t, s.url, broke).Swap(ctx, client.SwapRequest{Source: src, Target: src})
	var e *client.Error
	if !errors.As(err, &e) || e.Status != http.StatusNotAcceptable {
		t.Errorf("no credits: %v, want a 406", err)
	}
}

func mustClient(t *testing.T, url, key string) *client.Client {
	t.Helper()
	c, err := client.New(url, key)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestClientAsync: the client's v2 calls against a real server: a queued
// job waited for and fetched (an image of the target's size, charged once),
// a repeated idempotency key, and a failed job whose result is the 422.
func TestClientAsync(t *testing.T) {
	s := start(t, nil)
	secret, id := s.key(faceswap.KeyOptions{Name: "client async", Credits: 5})
	ctx := context.Background()
	c, err := client.New(s.url, secret)
	if err != nil {
		t.Fatal(err)
	}
	req := client.SwapRequest{
		Source: client.ImageBytes(photo(t, testenv.Tiny)),
		Target: client.ImageBytes(photo(t, testenv.Portrait2)),
	}
	j, err := c.Submit(ctx, req, client.SubmitOptions{IdempotencyKey: "client-1"})
	if err != nil || j.Status != client.Queued || j.StatusURL == "" || j.RemainingCredits != 5 {
		t.Fatalf("submit: %+v, %v", j, err)
	}
	again, err := c.Submit(ctx, req, client.SubmitOptions{IdempotencyKey: "client-1"})
	if err != nil || again.RequestID != j.RequestID {
		t.Fatalf("a repeated idempotency key: %+v, %v", again, err)
	}
	done, err := c.Wait(ctx, j.RequestID, 50*time.Millisecond)
	if err != nil || done.Status != client.Completed || done.Metrics == nil || done.Metrics.FacesSwapped != 1 {
		t.Fatalf("wait: %+v, %v", done, err)
	}
	res, err := c.Result(ctx, j.RequestID)
	if err != nil {
		t.Fatal(err)
	}
	info, err := imageio.DecodeConfig(res.Image, imageio.DefaultLimits)
	if err != nil || info.Width != 400 || res.ContentType != "image/jpeg" || res.FacesSwapped != 1 {
		t.Errorf("result: %+v %s %d faces, %v", info, res.ContentType, res.FacesSwapped, err)
	}
	if got := s.balance(id); got != 4 {
		t.Errorf("balance %d, want 4", got)
	}

	bad := req
	bad.Source = client.ImageBytes(photo(t, testenv.NoFace))
	j, err = c.Submit(ctx, bad, client.SubmitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	done, err = c.Wait(ctx, j.RequestID, 50*time.Millisecond)
	if err != nil || done.Status != client.Failed || done.ErrorStatus != 422 || !strings.Contains(done.Error, "source_img") {
		t.Fatalf("failed job: %+v, %v", done, err)
	}
	var ce *client.Error
	if _, err := c.Result(ctx, j.RequestID); !errors.As(err, &ce) || ce.Status != 422 || ce.Message != done.Error {
		t.Errorf("result of a failed job: %v", err)
	}
	if _, err := c.Result(ctx, "req_000000000000000000000000"); !errors.As(err, &ce) || ce.Status != 404 {
		t.Errorf("result of an unknown job: %v", err)
	}
	if got := s.balance(id); got != 4 {
		t.Errorf("balance %d after a failed job, want 4", got)
	}
}
