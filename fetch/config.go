package fetch

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Defaults for the zero fields of Config.
const (
	DefaultMaxBytes       = 20 << 20 // the SPEC's per-image limit, 20 MB
	DefaultConnectTimeout = 5 * time.Second
	DefaultTimeout        = 20 * time.Second
	DefaultMaxRedirects   = 3
)

// Limits on settings, to catch typos such as a timeout given in the wrong unit.
const (
	maxRedirectsLimit = 10
)

// Config configures a Fetcher. A zero field takes its default.
type Config struct {
	// MaxBytes is the largest body fetched; a larger one is a 413.
	// Default 20 MB, the image limit.
	MaxBytes int64
	// ConnectTimeout bounds each TCP connect and the TLS handshake. Default
	// 5 s, or Timeout when that is shorter.
	ConnectTimeout time.Duration
	// Timeout bounds the whole fetch, redirects and body included. Default 20 s.
	Timeout time.Duration
	// MaxRedirects is how many redirects are followed; one more is a 400.
	// Default 3.
	MaxRedirects int
	// Allow lists host names (matched exactly, case-insensitively) and IP
	// addresses or CIDR ranges ("127.0.0.1/32", "10.1.0.0/16", "::1") that
	// may be fetched even though they are loopback, private or otherwise
	// refused. Entries are as ParseAllow returns them.
	Allow []string
}

func (c Config) withDefaults() Config {
	if c.MaxBytes == 0 {
		c.MaxBytes = DefaultMaxBytes
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = min(DefaultConnectTimeout, c.Timeout)
	}
	if c.MaxRedirects == 0 {
		c.MaxRedirects = DefaultMaxRedirects
	}
	return c
}

// Validate reports every bad setting at once, one per line (errors.Join).
// Zero fields are valid: they take their defaults.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("fetch: "+format, args...)) }
	if c.MaxBytes < 0 {
		bad("MaxBytes must be positive, got %d", c.MaxBytes)
	}
	if c.ConnectTimeout < 0 {
		bad("ConnectTimeout must be positive, got %s", c.ConnectTimeout)
	}
	if c.Timeout < 0 {
		bad("Timeout must be positive, got %s", c.Timeout)
	}
	if d := c.withDefaults(); c.ConnectTimeout >= 0 && c.Timeout >= 0 && d.ConnectTimeout > d.Timeout {
		bad("ConnectTimeout (%s) is longer than Timeout (%s)", d.ConnectTimeout, d.Timeout)
	}
	if c.MaxRedirects < 0 || c.MaxRedirects > maxRedirectsLimit {
		bad("MaxRedirects must be 1-%d (0 for the default %d), got %d", maxRedirectsLimit, DefaultMaxRedirects, c.MaxRedirects)
	}
	for _, e := range c.Allow {
		if _, err := parseAllowEntry(e); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ParseAllow parses a comma-separated allow-list setting such as
// "localhost, 127.0.0.1/32, images.internal.example". Blank entries are
// skipped; every bad entry is reported at once. The result holds normalized
// entries: lower-case host names without a trailing dot, and canonical
// prefixes (a single address becomes /32 or /128).
func ParseAllow(s string) ([]string, error) {
	var out []string
	var errs []error
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		e, err := parseAllowEntry(part)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, e.String())
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// allowEntry is one parsed allow-list entry: a host name or a prefix.
type allowEntry struct {
	host   string
	prefix netip.Prefix
}

func (e allowEntry) String() string {
	if e.host != "" {
		return e.host
	}
	return e.prefix.String()
}

func parseAllowEntry(s string) (allowEntry, error) {
	t := strings.TrimSpace(s)
	t = strings.TrimSuffix(strings.TrimPrefix(t, "["), "]")
	if strings.Contains(t, "/") {
		p, err := netip.ParsePrefix(t)
		if err != nil {
			return allowEntry{}, fmt.Errorf("fetch: allow-list entry %q is not a valid CIDR range", s)
		}
		return allowEntry{prefix: p.Masked()}, nil
	}
	if ip, err := netip.ParseAddr(t); err == nil {
		if ip.Zone() != "" {
			return allowEntry{}, fmt.Errorf("fetch: allow-list entry %q has a zone; give the address without it", s)
		}
		ip = ip.Unmap()
		return allowEntry{prefix: netip.PrefixFrom(ip, ip.BitLen())}, nil
	}
	h := strings.TrimSuffix(strings.ToLower(t), ".")
	if !validHostName(h) {
		return allowEntry{}, fmt.Errorf("fetch: allow-list entry %q is neither a host name, an IP address nor a CIDR range", s)
	}
	return allowEntry{host: h}, nil
}

// validHostName reports whether h is a DNS host name: dot-separated labels of
// letters, digits, hyphens and underscores, 1-63 characters each, not
// starting or ending with a hyphen, at most 253 characters in all.
func validHostName(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// allowList is the parsed form of Config.Allow.
type allowList struct {
	hosts    map[string]bool
	prefixes []netip.Prefix
}

func newAllowList(entries []string) (allowList, error) {
	a := allowList{hosts: map[string]bool{}}
	var errs []error
	for _, s := range entries {
		e, err := parseAllowEntry(s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if e.host != "" {
			a.hosts[e.host] = true
		} else {
			a.prefixes = append(a.prefixes, e.prefix)
		}
	}
	return a, errors.Join(errs...)
}

func (a allowList) host(h string) bool {
	return a.hosts[strings.TrimSuffix(strings.ToLower(h), ".")]
}

func (a allowList) addr(ip netip.Addr) bool {
	ip = ip.WithZone("").Unmap()
	for _, p := range a.prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
