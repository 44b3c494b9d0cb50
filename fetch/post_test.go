package fetch

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"faceswap"
)

// TestPost: webhooks go through the same address rules as image fetches
// (a loopback receiver is refused unless allow-listed, and never gets a
// packet), carry the headers and body given, do not follow redirects, and
// report a non-2xx answer as a 502 with its status.
func TestPost(t *testing.T) {
	var got []string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, r.Method+" "+r.URL.Path+" "+r.Header.Get("X-Sig")+" "+string(b))
		switch r.URL.Path {
		case "/redirect":
			http.Redirect(w, r, "/hook", http.StatusTemporaryRedirect)
		case "/down":
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	defer recv.Close()
	h := http.Header{"X-Sig": {"s1"}}
	ctx := context.Background()

	refused := newTestFetcher(t, Config{}, nil)
	_, err := refused.Post(ctx, recv.URL+"/hook", []byte("{}"), h)
	wantError(t, err, http.StatusBadRequest, "private or loopback")
	if len(got) != 0 || len(refused.dialed(t)) != 0 {
		t.Fatalf("a refused webhook reached the receiver: %v", got)
	}

	tf := newTestFetcher(t, Config{Allow: []string{"127.0.0.1/32"}}, nil)
	if code, err := tf.Post(ctx, recv.URL+"/hook", []byte(`{"a":1}`), h); err != nil || code != 204 {
		t.Fatalf("Post: %d, %v", code, err)
	}
	if len(got) != 1 || got[0] != `POST /hook s1 {"a":1}` {
		t.Fatalf("receiver got %q", got)
	}
	code, err := tf.Post(ctx, recv.URL+"/down", []byte("{}"), h)
	if fe := wantError(t, err, http.StatusBadGateway, "answered 503"); code != 503 || fe == nil {
		t.Errorf("down receiver: %d", code)
	}
	code, err = tf.Post(ctx, recv.URL+"/redirect", []byte("{}"), h)
	if err == nil || code != http.StatusTemporaryRedirect || len(got) != 3 {
		t.Errorf("redirect: %d, %v, receiver got %q (the redirect must not be followed)", code, err, got)
	}
	for _, bad := range []string{"ftp://example.com/x", "https://user:pw@example.com/", "http:///nohost"} {
		if err := CheckURL("webhook", bad); faceswap.StatusOf(err) != 400 || !strings.Contains(err.Error(), "webhook") {
			t.Errorf("CheckURL(%q): %v", bad, err)
		}
	}
	if err := CheckURL("webhook", "https://example.com/hook"); err != nil {
		t.Errorf("CheckURL of a good URL: %v", err)
	}
}
