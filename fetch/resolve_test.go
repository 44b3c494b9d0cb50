package fetch

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"

	"faceswap"
)

// stubFetcher answers every URL with data or err, and records the URLs.
type stubFetcher struct {
	data []byte
	err  error
	urls []string
}

func (s *stubFetcher) Fetch(_ context.Context, u string) ([]byte, error) {
	s.urls = append(s.urls, u)
	return s.data, s.err
}

func TestResolveBase64Forms(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 1; n <= 200; n += 1 + n/10 {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(rng.UintN(256))
		}
		std := base64.StdEncoding.EncodeToString(data)
		forms := map[string]string{
			"std":          std,
			"raw std":      base64.RawStdEncoding.EncodeToString(data),
			"url":          base64.URLEncoding.EncodeToString(data),
			"raw url":      base64.RawURLEncoding.EncodeToString(data),
			"wrapped":      wrap(std, 76, "\r\n"),
			"spaced":       wrap(std, 7, " \t"),
			"padded space": "\n  " + std + "  \n",
			"data uri":     "data:image/png;base64," + std,
			"data uri url": "DATA:Image/JPEG;BASE64," + base64.RawURLEncoding.EncodeToString(data),
			"data uri ws":  "data:image/webp;base64," + wrap(std, 60, "\n"),
			"data no type": "data:;base64," + std,
			"data params":  "data:image/png;name=a.png;base64," + std,
			"data octets":  "data:application/octet-stream;base64," + std,
		}
		for name, v := range forms {
			got, err := Resolve(context.Background(), nil, "source_img", v, 1000)
			if err != nil {
				t.Errorf("%d bytes, %s %q: %v", n, name, v, err)
				continue
			}
			if !bytes.Equal(got, data) {
				t.Errorf("%d bytes, %s: decoded %x, want %x", n, name, got, data)
			}
		}
	}
}

func wrap(s string, width int, sep string) string {
	var b strings.Builder
	for len(s) > width {
		b.WriteString(s[:width])
		b.WriteString(sep)
		s = s[width:]
	}
	b.WriteString(s)
	return b.String()
}

func TestResolveErrors(t *testing.T) {
	ten := base64.StdEncoding.EncodeToString([]byte("0123456789"))
	eleven := base64.StdEncoding.EncodeToString([]byte("0123456789A"))
	for _, tc := range []struct {
		value  string
		status int
		msg    string
	}{
		{"", 400, "target_img is empty."},
		{" \n\t ", 400, "target_img is empty."},
		{"data:image/png;base64,", 400, "target_img is empty."},
		{"data:image/png;base64,  \n", 400, "target_img is empty."},
		{"not base64!", 400, "target_img is not an http(s) URL, a data URI or valid base64."},
		{"ex.com/a.j", 400, "target_img is not an http(s) URL, a data URI or valid base64."},
		{"QUJDRA==QUJD", 400, "target_img is not an http(s) URL, a data URI or valid base64."},
		{"QUJDR", 400, "target_img is not an http(s) URL, a data URI or valid base64."},
		{"QQ=", 400, "target_img is not an http(s) URL, a data URI or valid base64."},
		{"QUJD=", 400, "target_img is not an http(s) URL, a data URI or valid base64."},
		{"Q===", 400, "target_img is not an http(s) URL, a data URI or valid base64."},
		{"====", 400, "target_img is not an http(s) URL, a data URI or valid base64."},
		{"ab+c-_==", 400, "target_img is not an http(s) URL, a data URI or valid base64."}, // mixed alphabets
		{"data:image/png;base64,%%%", 400, "target_img is a data URI whose data is not valid base64."},
		{"data:image/png;base64", 400, "target_img is a data URI without the comma before its data."},
		{"data:image/png,rawbytes", 400, "target_img is a data URI that is not base64; use data:image/...;base64,..."},
		{"data:text/plain;base64,aGVsbG8=", 400, "target_img is a data URI of type text/plain, not an image."},
		{"data:" + strings.Repeat("x", 100) + "/y;base64,aGVsbG8=", 400, "target_img is a data URI of another type than an image."},
		{"ftp://example.com/a.jpg", 400, "target_img uses the ftp scheme; give an http or https URL, a data URI or base64."},
		{"file:///etc/passwd", 400, "target_img uses the file scheme; give an http or https URL, a data URI or base64."},
		{"C:\\images\\a.jpg", 400, "target_img uses the c scheme; give an http or https URL, a data URI or base64."},
		{"https://example.com/a.jpg", 400, "target_img is a URL, but this server does not fetch URLs; send the image as base64."},
		{ten, 0, ""},
		{eleven, 413, "target_img is over the 10 bytes limit."},
		{"data:image/png;base64," + eleven, 413, "target_img is over the 10 bytes limit."},
		// The size is checked before the data is: too long and invalid is a 413.
		{strings.Repeat("!", 15), 413, "target_img is over the 10 bytes limit."},
		{strings.Repeat("!", 14), 400, "target_img is not an http(s) URL, a data URI or valid base64."},
	} {
		data, err := Resolve(context.Background(), nil, "target_img", tc.value, 10)
		if tc.status == 0 {
			if err != nil || len(data) != 10 {
				t.Errorf("%q: %q, %v", tc.value, data, err)
			}
			continue
		}
		var fe *faceswap.Error
		if !errors.As(err, &fe) {
			t.Errorf("%q: error %v is not a *faceswap.Error", tc.value, err)
			continue
		}
		if fe.Status != tc.status || fe.Message != tc.msg {
			t.Errorf("%q: %d %q, want %d %q", tc.value, fe.Status, fe.Message, tc.status, tc.msg)
		}
	}
}

func TestResolveDefaultLimit(t *testing.T) {
	// maxBytes <= 0 means the default 20 MB; 21 MB of base64 is refused
	// without being decoded.
	v := strings.Repeat("AAAA", 21<<20/3)
	_, err := Resolve(context.Background(), nil, "source_img", v, 0)
	wantError(t, err, http.StatusRequestEntityTooLarge, "source_img is over the 20 MB limit.")
}

func TestResolveURL(t *testing.T) {
	ctx := context.Background()
	stub := &stubFetcher{data: []byte("image bytes")}
	got, err := Resolve(ctx, stub, "source_img", "  HTTPS://example.com/a.jpg?x=1 ", 100)
	if err != nil || string(got) != "image bytes" {
		t.Errorf("got %q, %v", got, err)
	}
	if len(stub.urls) != 1 || stub.urls[0] != "HTTPS://example.com/a.jpg?x=1" {
		t.Errorf("fetched %q", stub.urls)
	}

	// The fetcher's messages get the field name in front.
	for _, tc := range []struct {
		in  *faceswap.Error
		out string
	}{
		{faceswap.Errorf(400, refusedMsg), "source_img: The URL points to a private or loopback address, which this server does not fetch."},
		{faceswap.Errorf(502, "The URL could not be fetched: the server answered 404."), "source_img: The URL could not be fetched: the server answered 404."},
		{faceswap.Errorf(413, "The image at the URL is over the 20 MB limit."), "source_img: The image at the URL is over the 20 MB limit."},
		{faceswap.Errorf(502, "Upstream trouble."), "source_img: Upstream trouble."},
	} {
		stub := &stubFetcher{err: faceswap.Wrap(tc.in.Status, errors.New("detail"), "%s", tc.in.Message)}
		_, err := Resolve(ctx, stub, "source_img", "http://example.com/", 100)
		fe := wantError(t, err, tc.in.Status, tc.out)
		if fe.Public() != tc.out || fe.Message != tc.in.Message {
			t.Errorf("message %q (%q), want %q (the fetcher's %q)", fe.Public(), fe.Message, tc.out, tc.in.Message)
		}
		if fe.Err == nil || fe.Err.Error() != "detail" {
			t.Errorf("internal cause %v lost", fe.Err)
		}
	}
	// A fetcher error of another type is a 502 with the field named.
	_, err = Resolve(ctx, &stubFetcher{err: errors.New("plain")}, "target_img", "http://example.com/", 100)
	wantError(t, err, http.StatusBadGateway, "The URL of target_img could not be fetched.")
	// The limit applies to what any fetcher returns.
	_, err = Resolve(ctx, &stubFetcher{data: make([]byte, 101)}, "target_img", "http://example.com/", 100)
	wantError(t, err, http.StatusRequestEntityTooLarge, "The image at the URL of target_img is over the 100 bytes limit.")
	_, err = Resolve(ctx, &stubFetcher{data: nil}, "target_img", "http://example.com/", 100)
	wantError(t, err, http.StatusBadGateway, "The URL of target_img could not be fetched: the server answered with an empty body.")
	// Other schemes never reach the fetcher.
	stub = &stubFetcher{}
	for _, v := range []string{"ftp://example.com/a.jpg", "file:///etc/passwd", "gopher://x/"} {
		_, err := Resolve(ctx, stub, "source_img", v, 100)
		wantError(t, err, http.StatusBadRequest, "source_img uses the ")
	}
	if len(stub.urls) != 0 {
		t.Errorf("fetcher called for %q", stub.urls)
	}
}

func TestResolveWithFetcher(t *testing.T) {
	srv := newServer(t, false)
	ctx := context.Background()

	tf := newTestFetcher(t, Config{}, nil)
	_, err := Resolve(ctx, tf, "source_img", srv.URL+"/img", 0)
	fe := wantError(t, err, http.StatusBadRequest, "")
	if want := "source_img: The URL points to a private or loopback address, which this server does not fetch."; fe.Public() != want {
		t.Errorf("message %q, want %q", fe.Public(), want)
	}

	tf = newTestFetcher(t, Config{Allow: []string{"127.0.0.1/32"}, MaxBytes: 100}, nil)
	data, err := Resolve(ctx, tf, "target_img", srv.URL+"/img", 0)
	if err != nil || !bytes.Equal(data, pngBytes) {
		t.Errorf("allow-listed: %q, %v", data, err)
	}
	_, err = Resolve(ctx, tf, "target_img", srv.URL+"/bytes/101", 0)
	wantError(t, err, http.StatusRequestEntityTooLarge, "target_img: The image at the URL is over the 100 bytes limit.")
	_, err = Resolve(ctx, tf, "target_img", srv.URL+"/chain/5", 0)
	wantError(t, err, http.StatusBadRequest, "target_img: The URL redirected more than 3 times.")
	tf.dialed(t)
}
