package fetch

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"faceswap"
)

// These tests open sockets on 127.0.0.1 (and ::1 when the machine has it)
// only. Every other address they name must be refused before any connect,
// which the fetchers built here verify with their onConnect hook, and their
// name lookups are answered by a table, never by a resolver.

// pngBytes is enough of a body for the fetcher, which does not decode.
var pngBytes = []byte("\x89PNG\r\n\x1a\nnot really a png, but bytes to fetch")

// testFetcher is a Fetcher whose connects are recorded and whose name
// lookups come from names (plus "localhost" from the system, which reads
// the hosts file).
type testFetcher struct {
	*Fetcher
	mu       sync.Mutex
	connects []string
}

func newTestFetcher(t *testing.T, cfg Config, names map[string][]string) *testFetcher {
	t.Helper()
	f, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	tf := &testFetcher{Fetcher: f}
	f.onConnect = func(address string) {
		tf.mu.Lock()
		defer tf.mu.Unlock()
		tf.connects = append(tf.connects, address)
	}
	system := f.lookup
	f.lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
		if host == "localhost" { // answered from the hosts file; nothing else reaches a resolver
			return system(ctx, host)
		}
		addrs, ok := names[host]
		if !ok {
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		var out []netip.Addr
		for _, a := range addrs {
			out = append(out, netip.MustParseAddr(a))
		}
		return out, nil
	}
	t.Cleanup(f.CloseIdleConnections)
	return tf
}

// dialed returns the addresses connected to so far, and checks that each is
// on the loopback interface: nothing else may ever get a packet.
func (tf *testFetcher) dialed(t *testing.T) []string {
	t.Helper()
	tf.mu.Lock()
	defer tf.mu.Unlock()
	for _, a := range tf.connects {
		ap, err := netip.ParseAddrPort(a)
		if err != nil || !ap.Addr().Unmap().IsLoopback() {
			t.Errorf("connected to %s, which is not loopback", a)
		}
	}
	return append([]string(nil), tf.connects...)
}

// wantError checks err is a *faceswap.Error with status whose public message
// contains msg (or equals it, when exact).
func wantError(t *testing.T, err error, status int, msg string) *faceswap.Error {
	t.Helper()
	var fe *faceswap.Error
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) is not a *faceswap.Error", err, err)
	}
	if fe.Status != status {
		t.Errorf("status %d, want %d (message %q, cause %v)", fe.Status, status, fe.Public(), fe.Err)
	}
	if !strings.Contains(fe.Public(), msg) {
		t.Errorf("message %q does not contain %q (cause %v)", fe.Public(), msg, fe.Err)
	}
	return fe
}

// server is a loopback test server with a few paths; hits counts requests.
type server struct {
	*httptest.Server
	mu   sync.Mutex
	hits int
}

func newServer(t *testing.T, tls bool) *server {
	t.Helper()
	s := &server{}
	mux := http.NewServeMux()
	mux.HandleFunc("/img", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write(pngBytes)
	})
	mux.HandleFunc("/missing", http.NotFound)
	mux.HandleFunc("/broken", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	})
	mux.HandleFunc("/empty", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("/chain/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		if n <= 0 {
			http.Redirect(w, r, "/img", http.StatusFound)
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/chain/%d", n-1), http.StatusFound)
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		// The target is given by the test in ?to=.
		w.Header().Set("Location", r.URL.Query().Get("to"))
		w.WriteHeader(http.StatusFound)
	})
	mux.HandleFunc("/bytes/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		body := bytes.Repeat([]byte{'x'}, n)
		if r.URL.Query().Get("chunked") != "" {
			// No Content-Length: flush in pieces so the length is unknown.
			for len(body) > 0 {
				k := min(len(body), 300)
				w.Write(body[:k])
				w.(http.Flusher).Flush()
				body = body[k:]
			}
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(n))
		w.Write(body)
	})
	release := make(chan struct{})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("body") != "" {
			w.Header().Set("Content-Length", "1000")
			w.Write([]byte("partial"))
			w.(http.Flusher).Flush()
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits++
		s.mu.Unlock()
		mux.ServeHTTP(w, r)
	})
	if tls {
		s.Server = httptest.NewUnstartedServer(h)
		// The handshake the client refuses is expected; keep it out of the test log.
		s.Config.ErrorLog = log.New(io.Discard, "", 0)
		s.StartTLS()
	} else {
		s.Server = httptest.NewServer(h)
	}
	t.Cleanup(s.Close)
	t.Cleanup(func() { close(release) }) // runs before s.Close
	return s
}

func (s *server) hitCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits
}

func (s *server) port() string {
	u, _ := url.Parse(s.URL)
	return u.Port()
}

const refusedMsg = "The URL points to a private or loopback address, which this server does not fetch."

func TestLoopbackServerRefusedByDefault(t *testing.T) {
	srv := newServer(t, false)
	tf := newTestFetcher(t, Config{}, nil)
	for _, u := range []string{
		srv.URL + "/img",
		"http://localhost:" + srv.port() + "/img", // a host name that resolves to loopback
	} {
		_, err := tf.Fetch(context.Background(), u)
		fe := wantError(t, err, http.StatusBadRequest, refusedMsg)
		if fe.Message != refusedMsg {
			t.Errorf("%s: message %q, want exactly %q", u, fe.Message, refusedMsg)
		}
		var re *refusedError
		if !errors.As(err, &re) || !re.Addr.IsLoopback() || re.Why != "loopback" {
			t.Errorf("%s: cause %v, want a refusal of a loopback address", u, fe.Err)
		}
	}
	if got := tf.dialed(t); len(got) != 0 {
		t.Errorf("connects %v, want none", got)
	}
	if n := srv.hitCount(); n != 0 {
		t.Errorf("server got %d requests, want 0", n)
	}
}

func TestLoopbackServerAllowed(t *testing.T) {
	srv := newServer(t, false)
	for _, tc := range []struct {
		allow []string
		url   string
	}{
		{[]string{"127.0.0.1/32"}, srv.URL + "/img"},
		{[]string{"127.0.0.1"}, srv.URL + "/img"},
		{[]string{"localhost"}, "http://localhost:" + srv.port() + "/img"},
		{[]string{"LocalHost."}, "http://localhost:" + srv.port() + "/img"},
		{[]string{"127.0.0.0/8"}, "http://localhost:" + srv.port() + "/img"}, // range check on the resolved address
	} {
		tf := newTestFetcher(t, Config{Allow: tc.allow}, nil)
		data, err := tf.Fetch(context.Background(), tc.url)
		if err != nil {
			t.Errorf("allow %v, %s: %v", tc.allow, tc.url, err)
			continue
		}
		if !bytes.Equal(data, pngBytes) {
			t.Errorf("allow %v, %s: got %q", tc.allow, tc.url, data)
		}
		if got := tf.dialed(t); len(got) != 1 || !strings.HasPrefix(got[0], "127.0.0.1:") {
			t.Errorf("allow %v: connects %v, want one to 127.0.0.1", tc.allow, got)
		}
	}

	// Allowing the name does not allow the address, nor the other way round.
	tf := newTestFetcher(t, Config{Allow: []string{"localhost"}}, nil)
	_, err := tf.Fetch(context.Background(), srv.URL+"/img")
	wantError(t, err, http.StatusBadRequest, refusedMsg)
	tf = newTestFetcher(t, Config{Allow: []string{"10.0.0.0/8", "example.com"}}, nil)
	_, err = tf.Fetch(context.Background(), "http://localhost:"+srv.port()+"/img")
	wantError(t, err, http.StatusBadRequest, refusedMsg)
}

func TestIPv6LoopbackServer(t *testing.T) {
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback on this machine: %v", err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(pngBytes)
	})}}
	srv.Start()
	defer srv.Close()

	tf := newTestFetcher(t, Config{}, nil)
	_, err = tf.Fetch(context.Background(), srv.URL)
	wantError(t, err, http.StatusBadRequest, refusedMsg)
	if got := tf.dialed(t); len(got) != 0 {
		t.Errorf("connects %v, want none", got)
	}
	tf = newTestFetcher(t, Config{Allow: []string{"::1"}}, nil)
	data, err := tf.Fetch(context.Background(), srv.URL)
	if err != nil || !bytes.Equal(data, pngBytes) {
		t.Errorf("allow-listed ::1: %q, %v", data, err)
	}
}

// TestRefusedAddresses fetches addresses that must be refused by the dial
// check: the answer is a 400 and no connect is attempted (a connect to
// 10.255.255.1 would hang until the timeout and answer 502 instead).
func TestRefusedAddresses(t *testing.T) {
	names := map[string][]string{
		"metadata.test":   {"169.254.169.254"},
		"private.test":    {"10.0.0.7"},
		"mixed.test":      {"93.184.216.34", "192.168.1.10"}, // every answer must pass
		"v6private.test":  {"fd00::1"},
		"mapped.test":     {"::ffff:127.0.0.1"},
		"nat64.test":      {"64:ff9b::a9fe:a9fe"},
		"sixtofour.test":  {"2002:a00:1::1"},
		"cgnat.test":      {"100.100.100.200"},
		"unspecified.six": {"::"},
	}
	tf := newTestFetcher(t, Config{ConnectTimeout: time.Minute, Timeout: time.Minute}, names)
	urls := []string{
		"http://10.255.255.1/",
		"http://10.0.0.1:8080/a.jpg",
		"http://172.16.5.4/",
		"http://192.168.0.1/",
		"http://169.254.169.254/latest/meta-data/",
		"https://169.254.169.254/",
		"http://100.64.0.1/",
		"http://224.0.0.1/",
		"http://255.255.255.255/",
		"http://0.0.0.0/",
		"http://127.0.0.1:1/",
		"http://127.1.2.3/",
		"http://[::1]:1/",
		"http://[::]/",
		"http://[::ffff:127.0.0.1]/",
		"http://[::ffff:169.254.169.254]/",
		"http://[fe80::1%25eth0]/",
		"http://[fc00::1]/",
		"http://[ff02::1]/",
		"http://[64:ff9b::7f00:1]/",
		"http://[2002:7f00:1::]/",
		"http://metadata.test/latest/meta-data/",
		"http://private.test/",
		"http://mixed.test/",
		"http://v6private.test/",
		"http://mapped.test/",
		"http://nat64.test/",
		"http://sixtofour.test/",
		"http://cgnat.test/",
		"http://unspecified.six/",
	}
	for _, u := range urls {
		_, err := tf.Fetch(context.Background(), u)
		wantError(t, err, http.StatusBadRequest, refusedMsg)
		var re *refusedError
		if !errors.As(err, &re) {
			t.Errorf("%s: %v is not the dial check's refusal", u, err)
		}
	}
	if got := tf.dialed(t); len(got) != 0 {
		t.Errorf("connects %v, want none", got)
	}
}

func TestRedirects(t *testing.T) {
	srv := newServer(t, false)
	names := map[string][]string{"internal.test": {"10.1.2.3"}, "loop.test": {"127.0.0.1"}}
	tf := newTestFetcher(t, Config{Allow: []string{"127.0.0.1/32"}}, names)
	redirect := func(to string) string { return srv.URL + "/redirect?to=" + url.QueryEscape(to) }

	// Up to 3 redirects are followed.
	for n := 0; n <= 3; n++ {
		u := srv.URL + "/img"
		if n > 0 {
			u = fmt.Sprintf("%s/chain/%d", srv.URL, n-1) // /chain/k redirects k+1 times
		}
		data, err := tf.Fetch(context.Background(), u)
		if err != nil || !bytes.Equal(data, pngBytes) {
			t.Errorf("%d redirects: %q, %v", n, data, err)
		}
	}
	// A redirect to an allow-listed address is followed too.
	if data, err := tf.Fetch(context.Background(), redirect("http://loop.test:"+srv.port()+"/img")); err != nil || !bytes.Equal(data, pngBytes) {
		t.Errorf("redirect to an allowed address: %q, %v", data, err)
	}

	for _, tc := range []struct {
		url, msg string
	}{
		{srv.URL + "/chain/3", "The URL redirected more than 3 times."},
		{srv.URL + "/chain/10", "The URL redirected more than 3 times."},
		{redirect("http://169.254.169.254/latest/meta-data/"), "The URL redirected to a private or loopback address, which this server does not fetch."},
		{redirect("http://10.0.0.1/"), "The URL redirected to a private or loopback address, which this server does not fetch."},
		{redirect("http://[::ffff:10.0.0.1]/"), "The URL redirected to a private or loopback address, which this server does not fetch."},
		{redirect("http://internal.test/"), "The URL redirected to a private or loopback address, which this server does not fetch."},
		{redirect("ftp://127.0.0.1/x.jpg"), "The URL redirected to a URL that uses the ftp scheme; only http and https URLs are fetched."},
		{redirect("file:///etc/passwd"), "The URL redirected to a URL that uses the file scheme; only http and https URLs are fetched."},
		{redirect("http://user:secret@127.0.0.1:" + srv.port() + "/img"), "The URL redirected to a URL that contains a user name or password, which this server does not send."},
	} {
		_, err := tf.Fetch(context.Background(), tc.url)
		fe := wantError(t, err, http.StatusBadRequest, tc.msg)
		// The whole error prints (the server logs it): it once held itself
		// as its cause, and printing it overflowed the stack.
		if detail := err.Error(); !strings.Contains(detail, tc.msg) || len(detail) > 2000 {
			t.Errorf("%s: Error() = %.300q", tc.url, detail)
		}
		if fe.Message != tc.msg {
			t.Errorf("%s: message %q, want %q", tc.url, fe.Message, tc.msg)
		}
		if strings.Contains(fe.Message, "secret") {
			t.Errorf("%s: the public message shows the password: %q", tc.url, fe.Message)
		}
	}
	tf.dialed(t) // every connect was to loopback
}

func TestUpstreamFailures(t *testing.T) {
	srv := newServer(t, false)
	tf := newTestFetcher(t, Config{Allow: []string{"127.0.0.1/32"}, Timeout: 300 * time.Millisecond}, nil)

	// A port nobody listens on.
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/img"
	ln.Close()

	for _, tc := range []struct {
		url, msg string
	}{
		{srv.URL + "/missing", "The URL could not be fetched: the server answered 404."},
		{srv.URL + "/broken", "The URL could not be fetched: the server answered 500."},
		{srv.URL + "/empty", "The URL could not be fetched: the server answered with an empty body."},
		{srv.URL + "/slow", "The URL could not be fetched: the server did not answer in time."},
		{srv.URL + "/slow?body=1", "The URL could not be fetched: the server did not answer in time."},
		{closed, "The URL could not be fetched: the connection was refused."},
		{"http://nowhere.test/", "The URL could not be fetched: its host name did not resolve."},
	} {
		_, err := tf.Fetch(context.Background(), tc.url)
		fe := wantError(t, err, http.StatusBadGateway, tc.msg)
		if fe.Message != tc.msg {
			t.Errorf("%s: message %q, want %q", tc.url, fe.Message, tc.msg)
		}
		if fe.Err == nil {
			t.Errorf("%s: no internal cause for the log", tc.url)
		}
	}
}

func TestCallerDeadline(t *testing.T) {
	srv := newServer(t, false)
	tf := newTestFetcher(t, Config{Allow: []string{"127.0.0.1/32"}}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := tf.Fetch(ctx, srv.URL+"/slow")
	wantError(t, err, http.StatusGatewayTimeout, "ran past its deadline")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("%v does not match context.DeadlineExceeded", err)
	}
}

func TestTLS(t *testing.T) {
	srv := newServer(t, true)
	tf := newTestFetcher(t, Config{Allow: []string{"127.0.0.1/32"}}, nil)
	_, err := tf.Fetch(context.Background(), srv.URL+"/img")
	wantError(t, err, http.StatusBadGateway, "The URL could not be fetched: the TLS handshake failed.")

	// With the test server's certificate trusted, https works.
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	tf.transport.TLSClientConfig.RootCAs = pool
	data, err := tf.Fetch(context.Background(), srv.URL+"/img")
	if err != nil || !bytes.Equal(data, pngBytes) {
		t.Errorf("trusted https: %q, %v", data, err)
	}
}

// TestTLSUntypedFailure: a server that answers the handshake with a
// message the client cannot decode fails it with an error of no exported
// type ("local error: tls: error decoding message"); the fetcher tells it
// from the trace of the handshake, not from the error's words.
func TestTLSUntypedFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.Read(make([]byte, 4096))                                            // the ClientHello
				c.Write([]byte{0x16, 0x03, 0x03, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00}) // an empty ServerHello
				io.Copy(io.Discard, c)
			}()
		}
	}()
	tf := newTestFetcher(t, Config{Allow: []string{"127.0.0.1/32"}}, nil)
	_, err = tf.Fetch(context.Background(), "https://"+ln.Addr().String()+"/img")
	fe := wantError(t, err, http.StatusBadGateway, "The URL could not be fetched: the TLS handshake failed.")
	var (
		rec   tls.RecordHeaderError
		alert tls.AlertError
		cert  *tls.CertificateVerificationError
	)
	if errors.As(fe.Err, &rec) || errors.As(fe.Err, &alert) || errors.As(fe.Err, &cert) {
		t.Errorf("the cause %v is of an exported type: the test no longer shows the trace at work", fe.Err)
	}
}

func TestSizeLimit(t *testing.T) {
	srv := newServer(t, false)
	const max = 1000
	tf := newTestFetcher(t, Config{Allow: []string{"127.0.0.1/32"}, MaxBytes: max}, nil)
	for _, chunked := range []bool{false, true} {
		q := ""
		if chunked {
			q = "?chunked=1"
		}
		for _, n := range []int{1, max - 1, max} {
			data, err := tf.Fetch(context.Background(), fmt.Sprintf("%s/bytes/%d%s", srv.URL, n, q))
			if err != nil || len(data) != n {
				t.Errorf("%d bytes (chunked %v): got %d bytes, %v", n, chunked, len(data), err)
			}
		}
		for _, n := range []int{max + 1, 50 * max} {
			_, err := tf.Fetch(context.Background(), fmt.Sprintf("%s/bytes/%d%s", srv.URL, n, q))
			fe := wantError(t, err, http.StatusRequestEntityTooLarge, "The image at the URL is over the 1000 bytes limit.")
			if cause := fmt.Sprint(fe.Err); chunked == strings.Contains(cause, "Content-Length") {
				t.Errorf("%d bytes (chunked %v): cause %q; want the Content-Length check only when there is one", n, chunked, cause)
			}
		}
	}
}

func TestRefusedURLs(t *testing.T) {
	tf := newTestFetcher(t, Config{Allow: []string{"127.0.0.1/32", "localhost"}}, nil)
	for _, tc := range []struct {
		url, msg string
	}{
		{"file:///etc/passwd", "The URL uses the file scheme; only http and https URLs are fetched."},
		{"ftp://127.0.0.1/x.jpg", "The URL uses the ftp scheme; only http and https URLs are fetched."},
		{"gopher://127.0.0.1/", "The URL uses the gopher scheme; only http and https URLs are fetched."},
		{"javascript:alert(1)", "The URL uses the javascript scheme; only http and https URLs are fetched."},
		{"//127.0.0.1/x", "The URL uses no scheme; only http and https URLs are fetched."},
		{"http://user:pass@127.0.0.1/", "The URL contains a user name or password, which this server does not send."},
		{"http://user@localhost/", "The URL contains a user name or password, which this server does not send."},
		{"http:///path", "The URL has no host name."},
		{"http://[::1/", "The URL is not valid."},
		{"http://127.0.0.1:99999/", "The URL has an invalid port."},
		{"http://127.0.0.1:0/", "The URL has an invalid port."},
	} {
		_, err := tf.Fetch(context.Background(), tc.url)
		fe := wantError(t, err, http.StatusBadRequest, tc.msg)
		// The whole error prints (the server logs it): it once held itself
		// as its cause, and printing it overflowed the stack.
		if detail := err.Error(); !strings.Contains(detail, tc.msg) || len(detail) > 2000 {
			t.Errorf("%s: Error() = %.300q", tc.url, detail)
		}
		if fe.Message != tc.msg {
			t.Errorf("%s: message %q, want %q", tc.url, fe.Message, tc.msg)
		}
		if strings.Contains(fe.Message, "pass") && !strings.Contains(tc.msg, "pass") {
			t.Errorf("%s: the message shows the password", tc.url)
		}
	}
	if got := tf.dialed(t); len(got) != 0 {
		t.Errorf("connects %v, want none", got)
	}
}

func TestAddressTable(t *testing.T) {
	for _, tc := range []struct {
		addr string
		why  string // "" = public, may be fetched
	}{
		{"8.8.8.8", ""},
		{"1.1.1.1", ""},
		{"93.184.216.34", ""},
		{"172.32.0.1", ""},
		{"100.128.0.1", ""},
		{"169.253.255.255", ""},
		{"223.255.255.255", ""},
		{"0.0.0.0", "\"this network\" (includes the unspecified address)"},
		{"0.1.2.3", "\"this network\" (includes the unspecified address)"},
		{"10.0.0.1", "private"},
		{"10.255.255.1", "private"},
		{"172.16.0.1", "private"},
		{"172.31.255.255", "private"},
		{"192.168.1.1", "private"},
		{"100.64.0.1", "carrier-grade NAT (shared address space)"},
		{"100.127.255.255", "carrier-grade NAT (shared address space)"},
		{"127.0.0.1", "loopback"},
		{"127.255.255.254", "loopback"},
		{"169.254.169.254", "link-local (includes the cloud metadata service)"},
		{"169.254.0.1", "link-local (includes the cloud metadata service)"},
		{"192.0.0.170", "IETF protocol assignments"},
		{"192.0.2.1", "documentation (TEST-NET-1)"},
		{"192.88.99.1", "6to4 relay anycast"},
		{"198.18.0.1", "benchmarking"},
		{"198.19.255.255", "benchmarking"},
		{"198.51.100.7", "documentation (TEST-NET-2)"},
		{"203.0.113.9", "documentation (TEST-NET-3)"},
		{"224.0.0.1", "multicast"},
		{"239.255.255.250", "multicast"},
		{"240.0.0.1", "reserved"},
		{"255.255.255.254", "reserved"},
		{"255.255.255.255", "broadcast"},

		{"2606:4700:4700::1111", ""},
		{"2a00:1450:4001::1", ""},
		{"::ffff:8.8.8.8", ""},
		{"64:ff9b::808:808", ""},
		{"2002:808:808::1", ""},
		{"::", "unspecified"},
		{"::1", "loopback"},
		{"::ffff:127.0.0.1", "IPv4-mapped loopback"},
		{"::ffff:10.0.0.1", "IPv4-mapped private"},
		{"::ffff:169.254.169.254", "IPv4-mapped link-local (includes the cloud metadata service)"},
		{"::127.0.0.1", "IPv4-compatible (deprecated)"},
		{"::8.8.8.8", "IPv4-compatible (deprecated)"},
		{"64:ff9b::7f00:1", "NAT64 form of loopback"},
		{"64:ff9b::a9fe:a9fe", "NAT64 form of link-local (includes the cloud metadata service)"},
		{"64:ff9b:1::1", "local-use NAT64"},
		{"2002:7f00:1::", "6to4 form of loopback"},
		{"2002:c0a8:101::1", "6to4 form of private"},
		{"2001::1", "Teredo"},
		{"2001:2::1", "benchmarking"},
		{"2001:10::1", "ORCHID"},
		{"2001:20::1", "ORCHIDv2"},
		{"2001:db8::1", "documentation"},
		{"3fff::1", "documentation"},
		{"100::1", "discard-only"},
		{"fc00::1", "unique local (private)"},
		{"fd00:ec2::254", "unique local (private)"}, // a cloud's IPv6 metadata address
		{"fe80::1", "link-local"},
		{"fe80::1%eth0", "link-local"},
		{"febf::1", "link-local"},
		{"fec0::1", "site-local (deprecated)"},
		{"ff02::1", "multicast"},
		{"ff05::1:3", "multicast"},
		{"4000::1", "reserved (not IPv6 global unicast)"},
		{"1::1", "reserved (not IPv6 global unicast)"},
	} {
		if got := classify(netip.MustParseAddr(tc.addr)); got != tc.why {
			t.Errorf("classify(%s) = %q, want %q", tc.addr, got, tc.why)
		}
	}
	if got := classify(netip.Addr{}); got == "" {
		t.Error("the zero Addr is not refused")
	}
	// Every range in the tables refuses its first and last address.
	for _, b := range append(append([]blockedRange(nil), blocked4...), blocked6...) {
		first := b.prefix.Addr()
		last := lastAddr(b.prefix)
		for _, a := range []netip.Addr{first, last} {
			if classify(a) == "" {
				t.Errorf("%s (in %s, %s) is not refused", a, b.prefix, b.why)
			}
		}
	}
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 1 << (7 - i%8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

func TestParseAllow(t *testing.T) {
	got, err := ParseAllow(" localhost, 127.0.0.1/32,::1 , 10.1.2.3/8,, Images.Example.COM., [fd00::1], ::ffff:127.0.0.2 ")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"localhost", "127.0.0.1/32", "::1/128", "10.0.0.0/8", "images.example.com", "fd00::1/128", "127.0.0.2/32"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ParseAllow = %q, want %q", got, want)
	}
	if got, err := ParseAllow(""); err != nil || len(got) != 0 {
		t.Errorf("ParseAllow(\"\") = %q, %v", got, err)
	}
	_, err = ParseAllow("ok.example, bad host, 300.1.1.1/8, -dash.example, 10.0.0.0/33, fe80::1%eth0")
	if err == nil {
		t.Fatal("bad entries accepted")
	}
	for _, bad := range []string{`"bad host"`, `"300.1.1.1/8"`, `"-dash.example"`, `"10.0.0.0/33"`, `"fe80::1%eth0"`} {
		if !strings.Contains(err.Error(), bad) {
			t.Errorf("error %q does not name %s", err, bad)
		}
	}
	if strings.Contains(err.Error(), "ok.example") {
		t.Errorf("error %q names a good entry", err)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := (Config{}).Validate(); err != nil {
		t.Errorf("zero Config: %v", err)
	}
	f, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if c := f.Config(); c.MaxBytes != 20<<20 || c.ConnectTimeout != 5*time.Second || c.Timeout != 20*time.Second || c.MaxRedirects != 3 {
		t.Errorf("defaults: %+v", c)
	}
	bad := Config{MaxBytes: -1, ConnectTimeout: -time.Second, Timeout: -time.Second, MaxRedirects: 11, Allow: []string{"localhost", "not a host"}}
	err = bad.Validate()
	if err == nil {
		t.Fatal("bad Config accepted")
	}
	for _, want := range []string{"MaxBytes", "ConnectTimeout", "Timeout", "MaxRedirects", `"not a host"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	if n := strings.Count(err.Error(), "\n") + 1; n != 5 {
		t.Errorf("%d errors reported, want 5:\n%v", n, err)
	}
	if _, err := New(bad); err == nil {
		t.Error("New accepted a bad Config")
	}
	err = Config{ConnectTimeout: time.Minute}.Validate()
	if err == nil || !strings.Contains(err.Error(), "longer than Timeout") {
		t.Errorf("ConnectTimeout over the default Timeout: %v", err)
	}
}

func TestNoProxy(t *testing.T) {
	// The transport has no Proxy function, so HTTP_PROXY and friends are
	// ignored. (An end-to-end check cannot show it with a loopback server:
	// the standard proxy lookup never proxies loopback anyway.)
	t.Setenv("HTTP_PROXY", "http://127.0.0.1:1")
	t.Setenv("HTTPS_PROXY", "http://127.0.0.1:1")
	f, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if f.transport.Proxy != nil {
		t.Error("the transport has a Proxy function")
	}
}

// TestDNSRebinding: a name whose answer changes from one lookup to the next
// (here an allow-listed loopback address, then a private one, as a
// rebinding attacker's DNS would answer) is resolved and checked at every
// connect, and only the checked address is dialled: the fetches that get
// the private answer are refused, and no connect ever leaves loopback. An
// answer holding both kinds of address is refused whole.
func TestDNSRebinding(t *testing.T) {
	srv := newServer(t, false)
	tf := newTestFetcher(t, Config{Allow: []string{"127.0.0.1/32"}}, nil)
	var (
		mu      sync.Mutex
		lookups int
		both    bool
	)
	tf.lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
		mu.Lock()
		defer mu.Unlock()
		lookups++
		switch {
		case both:
			return []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("10.7.7.7")}, nil
		case lookups%2 == 1:
			return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
		}
		return []netip.Addr{netip.MustParseAddr("10.7.7.7")}, nil
	}
	u := "http://rebind.test:" + srv.port() + "/img"
	for i := range 6 {
		tf.CloseIdleConnections() // a new connect, so a new lookup
		data, err := tf.Fetch(context.Background(), u)
		if i%2 == 0 {
			if err != nil || !bytes.Equal(data, pngBytes) {
				t.Errorf("fetch %d (loopback answer): %q, %v", i, data, err)
			}
			continue
		}
		wantError(t, err, http.StatusBadRequest, "private or loopback address")
	}
	mu.Lock()
	both = true
	mu.Unlock()
	tf.CloseIdleConnections()
	_, err := tf.Fetch(context.Background(), u)
	wantError(t, err, http.StatusBadRequest, "private or loopback address")
	if got := len(tf.dialed(t)); got != 3 {
		t.Errorf("%d connects, want 3 (the loopback answers)", got)
	}
}
