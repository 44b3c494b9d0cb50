package fetch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"faceswap"
)

// Fetcher fetches input images over http and https, refusing addresses the
// server must not reach (SPEC §5). It is safe for concurrent use.
type Fetcher struct {
	cfg       Config
	allow     allowList
	transport *http.Transport

	// lookup resolves a host name; tests replace it to simulate DNS answers
	// without a resolver.
	lookup func(ctx context.Context, host string) ([]netip.Addr, error)
	// onConnect, when set, is called for every TCP connect about to be made,
	// after the address check; tests use it to prove refused addresses
	// never get a packet.
	onConnect func(address string)
}

var _ faceswap.Fetcher = (*Fetcher)(nil)

// New returns a Fetcher for cfg, after cfg.Validate.
func New(cfg Config) (*Fetcher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	allow, err := newAllowList(cfg.Allow)
	if err != nil {
		return nil, err
	}
	f := &Fetcher{cfg: cfg, allow: allow}
	f.lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
		return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	}
	f.transport = &http.Transport{
		Proxy:                  nil, // never a proxy, whatever the environment says
		DialContext:            f.dialContext,
		ForceAttemptHTTP2:      true,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    cfg.ConnectTimeout,
		ResponseHeaderTimeout:  cfg.Timeout,
		MaxResponseHeaderBytes: 64 << 10,
		DisableCompression:     true, // images are compressed already; the limit counts bytes as sent
		MaxIdleConns:           16,
		MaxIdleConnsPerHost:    2,
		IdleConnTimeout:        30 * time.Second,
	}
	return f, nil
}

// Config returns the configuration in effect, defaults filled in.
func (f *Fetcher) Config() Config { return f.cfg }

// CloseIdleConnections closes kept-alive connections that are idle.
func (f *Fetcher) CloseIdleConnections() { f.transport.CloseIdleConnections() }

// refusedError is the dial check's verdict on an address.
type refusedError struct {
	Host string
	Addr netip.Addr
	Why  string
}

func (e *refusedError) Error() string {
	if e.Host == e.Addr.String() {
		return fmt.Sprintf("address %s is %s and not allow-listed", e.Addr, e.Why)
	}
	return fmt.Sprintf("host %s resolves to %s, which is %s and not allow-listed", e.Host, e.Addr, e.Why)
}

// publicError carries a ready *faceswap.Error through the HTTP client (from
// CheckRedirect), so Fetch can return it as it is.
type publicError struct{ e *faceswap.Error }

func (p *publicError) Error() string { return p.e.Error() }

// dialContext is the only way the transport reaches the network. It resolves
// the host itself, refuses the connection unless every resolved address is
// acceptable (public, or allow-listed by host name or range), and then
// connects to the checked addresses only, so a second DNS answer (rebinding)
// cannot change the target between the check and the connect. Redirects
// dial again, so they get the same check.
func (f *Fetcher) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("bad port %q: %w", portStr, err)
	}
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip}
	} else {
		ips, err = f.lookup(ctx, host)
		if err != nil {
			return nil, err
		}
		if len(ips) == 0 {
			return nil, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
		}
	}
	hostAllowed := f.allow.host(host)
	checked := make([]netip.Addr, 0, len(ips))
	for _, ip := range ips {
		if ip.Is4In6() {
			ip = ip.Unmap()
		}
		if !hostAllowed && !f.allow.addr(ip) {
			if why := classify(ip); why != "" {
				return nil, &refusedError{Host: host, Addr: ip, Why: why}
			}
		}
		checked = append(checked, ip)
	}
	d := net.Dialer{
		Timeout: f.cfg.ConnectTimeout,
		// Control runs just before each connect: it makes sure the socket
		// goes to an address that passed the check above, whatever path
		// the dialer took.
		Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("unexpected dial address %q: %w", address, err)
			}
			a := ap.Addr().WithZone("").Unmap()
			if !slices.ContainsFunc(checked, func(c netip.Addr) bool { return c.WithZone("") == a }) {
				return &refusedError{Host: host, Addr: a, Why: "not the checked address"}
			}
			if f.onConnect != nil {
				f.onConnect(address)
			}
			return nil
		},
	}
	var first error
	for _, ip := range checked {
		conn, err := d.DialContext(ctx, network, netip.AddrPortFrom(ip, uint16(port)).String())
		if err == nil {
			return conn, nil
		}
		if first == nil {
			first = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, first
}

// Fetch GETs rawURL and returns the body. Every error is a *faceswap.Error
// whose message speaks of "the URL" (Resolve names the field there):
// 400 for a URL the server refuses (scheme, credentials, a refused address,
// also after a redirect, or too many redirects); 502 when the URL could not be
// fetched (DNS, connection, TLS, timeout, an answer other than 2xx, an empty
// body); 413 for a body over MaxBytes; 504 when ctx's deadline passed.
func (f *Fetcher) Fetch(ctx context.Context, rawURL string) ([]byte, error) {
	u, perr := checkURL(rawURL, false)
	if perr != nil {
		return nil, perr
	}
	redirected := false
	client := &http.Client{
		Transport: f.transport,
		Timeout:   f.cfg.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > f.cfg.MaxRedirects {
				return &publicError{faceswap.Wrap(http.StatusBadRequest,
					fmt.Errorf("redirect %d to %s", len(via), req.URL.Redacted()),
					"The URL redirected more than %d times.", f.cfg.MaxRedirects)}
			}
			if _, e := checkURL(req.URL.String(), true); e != nil {
				return &publicError{e}
			}
			redirected = true
			return nil
		},
	}
	var tlsFailed handshakes
	req, err := http.NewRequestWithContext(tlsFailed.watch(ctx), http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, faceswap.Wrap(http.StatusBadRequest, err, "The URL is not valid.")
	}
	req.Header.Set("User-Agent", "faceswap-fetch")
	req.Header.Set("Accept", "image/*")
	resp, err := client.Do(req)
	if err != nil {
		return nil, classify502(ctx, err, redirected, tlsFailed.Load())
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, faceswap.Wrap(http.StatusBadGateway,
			fmt.Errorf("GET %s: %s", resp.Request.URL.Redacted(), resp.Status),
			"The URL could not be fetched: the server answered %d.", resp.StatusCode)
	}
	max := f.cfg.MaxBytes
	if resp.ContentLength > max {
		return nil, faceswap.Wrap(http.StatusRequestEntityTooLarge,
			fmt.Errorf("Content-Length %d > %d", resp.ContentLength, max),
			"The image at the URL is over the %s limit.", faceswap.FormatBytes(max))
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, classify502(ctx, err, redirected, tlsFailed.Load())
	}
	if int64(len(data)) > max {
		return nil, faceswap.Wrap(http.StatusRequestEntityTooLarge,
			fmt.Errorf("body > %d bytes", max),
			"The image at the URL is over the %s limit.", faceswap.FormatBytes(max))
	}
	if len(data) == 0 {
		return nil, faceswap.Wrap(http.StatusBadGateway,
			fmt.Errorf("GET %s: empty body", resp.Request.URL.Redacted()),
			"The URL could not be fetched: the server answered with an empty body.")
	}
	return data, nil
}

// checkURL parses raw and refuses what is never fetched: schemes other than
// http and https, credentials, and a missing host. The address itself is
// checked at dial time.
func checkURL(raw string, redirect bool) (*url.URL, *faceswap.Error) {
	what := "The URL"
	if redirect {
		what = "The URL redirected to a URL that"
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, faceswap.Wrap(http.StatusBadRequest, err, "%s is not valid.", what)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	default:
		return nil, faceswap.Wrap(http.StatusBadRequest, fmt.Errorf("scheme %q", u.Scheme),
			"%s uses %s; only http and https URLs are fetched.", what, describeScheme(u.Scheme))
	}
	if u.User != nil {
		return nil, faceswap.Wrap(http.StatusBadRequest, errors.New("credentials in URL"),
			"%s contains a user name or password, which this server does not send.", what)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.ParseUint(p, 10, 16); err != nil || n == 0 {
			return nil, faceswap.Wrap(http.StatusBadRequest, fmt.Errorf("port %q", p), "%s has an invalid port.", what)
		}
	}
	if u.Hostname() == "" {
		return nil, faceswap.Wrap(http.StatusBadRequest, fmt.Errorf("no host in %q", u.Redacted()),
			"%s has no host name.", what)
	}
	return u, nil
}

// describeScheme names a URL scheme for a public message without echoing
// anything long or odd.
func describeScheme(s string) string {
	if s == "" {
		return "no scheme"
	}
	if len(s) > 16 {
		return "an unsupported scheme"
	}
	return "the " + strings.ToLower(s) + " scheme"
}

// handshakes notes whether a TLS handshake of a request, or of a redirect
// it followed, failed: the transport reports that with errors of many
// kinds, not all of them typed.
type handshakes struct{ atomic.Bool }

// watch returns ctx with a trace that sets h when a handshake fails.
func (h *handshakes) watch(ctx context.Context) context.Context {
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		TLSHandshakeDone: func(_ tls.ConnectionState, err error) {
			if err != nil {
				h.Store(true)
			}
		},
	})
}

// classify502 turns an error from the HTTP client or the body read into a
// public error; tlsFailed says a TLS handshake failed on the way.
func classify502(ctx context.Context, err error, redirected, tlsFailed bool) error {
	var pub *publicError
	if errors.As(err, &pub) {
		// A copy: err (the client's *url.Error) wraps pub, so making err
		// the cause of pub.e would make the error contain itself, and its
		// Error() recurse until the stack overflows (which killed the
		// server on the log line of every redirect loop).
		c := *pub.e
		return &c
	}
	var refused *refusedError
	if errors.As(err, &refused) {
		if redirected {
			return faceswap.Wrap(http.StatusBadRequest, err,
				"The URL redirected to a private or loopback address, which this server does not fetch.")
		}
		return faceswap.Wrap(http.StatusBadRequest, err,
			"The URL points to a private or loopback address, which this server does not fetch.")
	}
	// A timeout that fires at the caller's deadline is the deadline, even
	// when the transport's own timer (set to the same moment) reports it a
	// hair before the context does.
	var nerr net.Error
	if d, ok := ctx.Deadline(); ok && ctx.Err() == nil && time.Until(d) < 50*time.Millisecond &&
		(errors.Is(err, context.DeadlineExceeded) || errors.As(err, &nerr) && nerr.Timeout()) {
		return faceswap.Wrap(http.StatusGatewayTimeout, errors.Join(err, context.DeadlineExceeded),
			"The request ran past its deadline while the URL was being fetched.")
	}
	if ce := ctx.Err(); ce != nil {
		if errors.Is(ce, context.DeadlineExceeded) {
			return faceswap.Wrap(http.StatusGatewayTimeout, err,
				"The request ran past its deadline while the URL was being fetched.")
		}
		return faceswap.Wrap(http.StatusBadGateway, err, "The URL could not be fetched: the request was canceled.")
	}
	reason := "the connection failed"
	var dnsErr *net.DNSError
	var netErr net.Error
	var certErr *tls.CertificateVerificationError
	var recErr tls.RecordHeaderError
	var alertErr tls.AlertError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalidCert x509.CertificateInvalidError
	switch {
	case errors.As(err, &dnsErr) && !dnsErr.IsTimeout:
		reason = "its host name did not resolve"
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout():
		reason = "the server did not answer in time"
	case errors.Is(err, syscall.ECONNREFUSED):
		reason = "the connection was refused"
	case errors.Is(err, syscall.ECONNRESET):
		reason = "the connection was reset"
	case tlsFailed, errors.As(err, &certErr), errors.As(err, &recErr), errors.As(err, &alertErr),
		errors.As(err, &unknownCA), errors.As(err, &hostErr), errors.As(err, &invalidCert):
		reason = "the TLS handshake failed"
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		reason = "the host is unreachable"
	}
	return faceswap.Wrap(http.StatusBadGateway, err, "The URL could not be fetched: %s.", reason)
}
