package client_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"faceswap/client"
)

// The client against a real server is tested by the examples (see
// TestMain) and by server's TestClient; these tests pin what it puts on
// the wire and how it reads answers that are not the API's.

func TestNew(t *testing.T) {
	for _, bad := range []string{"", "127.0.0.1:8080", "ftp://host", "http://", "://x"} {
		if _, err := client.New(bad, "k"); err == nil {
			t.Errorf("New(%q) accepted", bad)
		}
	}
}

// TestWire: the swap body has exactly the given fields (index lists as
// strings, a zero weight kept, base64 false, the image inline or as a
// URL), the key and the path prefix are sent.
func TestWire(t *testing.T) {
	var got map[string]any
	var path, key string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path, key = r.URL.Path, r.Header.Get("x-api-key")
		if err := json.NewDecoder(r.Body).Decode(&got); err != nil {
			t.Error(err)
		}
		w.Header().Set("Content-Type", "image/png")
		w.Header().Set("X-Faces-Swapped", "2")
		w.Header().Set("X-Remaining-Credits", "7")
		w.Header().Set("X-Request-Id", "abc")
		w.Header().Set("Server-Timing", "decode;dur=1.5, swap;dur=20")
		w.Header().Set("X-Faces-Quality", "0=0.92,2=0.41")
		w.Header().Set("X-Faces-Poor", "2=pose-gap+expression-gap")
		w.Write([]byte("png bytes"))
	}))
	defer srv.Close()
	c, err := client.New(srv.URL+"/api/", "secret")
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Swap(context.Background(), client.SwapRequest{
		Source:            client.ImageBytes([]byte{1, 2, 3}),
		Target:            client.ImageURL("https://example.com/t.jpg"),
		InputFacesIndex:   []int{0, 2},
		SourceFacesIndex:  []int{1},
		FaceRestoreWeight: client.Weight(0),
		ImageFormat:       "png",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"source_img": base64.StdEncoding.EncodeToString([]byte{1, 2, 3}), "target_img": "https://example.com/t.jpg",
		"input_faces_index": "0,2", "source_faces_index": "1", "face_restore_weight": 0.0, "image_format": "png", "base64": false,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("body %v\nwant %v", got, want)
	}
	if path != "/api/v1/faceswap-v3-multifaceswap" || key != "secret" {
		t.Errorf("path %q, key %q", path, key)
	}
	if string(res.Image) != "png bytes" || res.ContentType != "image/png" || res.FacesSwapped != 2 ||
		res.RemainingCredits != 7 || res.RequestID != "abc" || len(res.Timings) != 2 || res.Timings[1].Duration != 20*time.Millisecond {
		t.Errorf("result %+v", res)
	}
	if wantQ := []client.FaceQuality{{Index: 0, Quality: 0.92}, {Index: 2, Quality: 0.41, Poor: []string{"pose-gap", "expression-gap"}}}; !reflect.DeepEqual(res.Faces, wantQ) {
		t.Errorf("faces %+v, want %+v", res.Faces, wantQ)
	}
	if _, err := c.Swap(context.Background(), client.SwapRequest{Source: client.ImageBytes([]byte{1})}); err == nil {
		t.Error("a swap without a target was sent")
	}
}

// TestNotTheAPI: an answer that is not the API's error body (a proxy's
// page) is still an *Error with the status and Retry-After.
func TestNotTheAPI(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Retry-After", "3")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("<html>maintenance</html>"))
	}))
	defer srv.Close()
	c, _ := client.New(srv.URL, "k")
	_, err := c.Credits(context.Background())
	var e *client.Error
	if !errors.As(err, &e) || e.Status != 503 || e.RetryAfter != 3*time.Second || e.Message == "" {
		t.Fatalf("err %#v", err)
	}
}

func TestParseServerTiming(t *testing.T) {
	got := client.ParseServerTiming(`fetch;dur=0.4, queue;dur=0,decode;desc="x";dur=12.5, cache, ;dur=3, bad;dur=x`)
	want := []client.Timing{{"fetch", 400 * time.Microsecond}, {"queue", 0}, {"decode", 12500 * time.Microsecond}, {"cache", 0}, {"bad", 0}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
}

// FuzzParseServerTiming: whatever a server sends, the parser neither
// panics nor returns a nameless or negative stage.
func FuzzParseServerTiming(f *testing.F) {
	for _, s := range []string{"", "fetch;dur=0.4, queue;dur=0", `a;desc="x,y";dur=1`, ";;,,", "a;dur=-1", "a;dur=1e400", "a;dur=1e300", "a;dur=NaN"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		for _, st := range client.ParseServerTiming(h) {
			if st.Name == "" || st.Duration < 0 {
				t.Fatalf("%q: stage %+v", h, st)
			}
		}
	})
}
