package fetch

import (
	"net/netip"
)

// A blocked range is a block of addresses the fetcher never connects to unless
// the allow-list permits it: the machine itself, its private networks, the
// cloud metadata service, and everything that is not ordinary public unicast.
type blockedRange struct {
	prefix netip.Prefix
	why    string // for the log: "loopback", "private", ...
}

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }

// blocked4 lists the IPv4 special-purpose ranges (IANA IPv4 Special-Purpose
// Address Registry, plus multicast and the old class E space). Anything else
// is public unicast and may be fetched.
var blocked4 = []blockedRange{
	{mustPrefix("0.0.0.0/8"), "\"this network\" (includes the unspecified address)"},
	{mustPrefix("10.0.0.0/8"), "private"},
	{mustPrefix("100.64.0.0/10"), "carrier-grade NAT (shared address space)"},
	{mustPrefix("127.0.0.0/8"), "loopback"},
	{mustPrefix("169.254.0.0/16"), "link-local (includes the cloud metadata service)"},
	{mustPrefix("172.16.0.0/12"), "private"},
	{mustPrefix("192.0.0.0/24"), "IETF protocol assignments"},
	{mustPrefix("192.0.2.0/24"), "documentation (TEST-NET-1)"},
	{mustPrefix("192.88.99.0/24"), "6to4 relay anycast"},
	{mustPrefix("192.168.0.0/16"), "private"},
	{mustPrefix("198.18.0.0/15"), "benchmarking"},
	{mustPrefix("198.51.100.0/24"), "documentation (TEST-NET-2)"},
	{mustPrefix("203.0.113.0/24"), "documentation (TEST-NET-3)"},
	{mustPrefix("224.0.0.0/4"), "multicast"},
	{mustPrefix("255.255.255.255/32"), "broadcast"},
	{mustPrefix("240.0.0.0/4"), "reserved"},
}

// blocked6 lists the IPv6 special-purpose ranges. The IPv4-mapped
// (::ffff:0:0/96), NAT64 (64:ff9b::/96) and 6to4 (2002::/16) forms are not
// here: they are judged by the IPv4 address they embed (see classify).
// Everything outside 2000::/3, the global unicast space, is refused as well.
var blocked6 = []blockedRange{
	{mustPrefix("::/128"), "unspecified"},
	{mustPrefix("::1/128"), "loopback"},
	{mustPrefix("::/96"), "IPv4-compatible (deprecated)"},
	{mustPrefix("100::/64"), "discard-only"},
	{mustPrefix("64:ff9b:1::/48"), "local-use NAT64"},
	{mustPrefix("2001::/32"), "Teredo"},
	{mustPrefix("2001:2::/48"), "benchmarking"},
	{mustPrefix("2001:10::/28"), "ORCHID"},
	{mustPrefix("2001:20::/28"), "ORCHIDv2"},
	{mustPrefix("2001:db8::/32"), "documentation"},
	{mustPrefix("3fff::/20"), "documentation"},
	{mustPrefix("fc00::/7"), "unique local (private)"},
	{mustPrefix("fe80::/10"), "link-local"},
	{mustPrefix("fec0::/10"), "site-local (deprecated)"},
	{mustPrefix("ff00::/8"), "multicast"},
}

var (
	globalUnicast6 = mustPrefix("2000::/3")
	nat64          = mustPrefix("64:ff9b::/96")
	sixToFour      = mustPrefix("2002::/16")
)

// classify reports whether ip is in a range the fetcher refuses, and which.
// An empty reason means the address is public and may be fetched.
func classify(ip netip.Addr) (reason string) {
	ip = ip.WithZone("")
	switch {
	case !ip.IsValid():
		return "invalid"
	case ip.Is4In6():
		if r := classify(ip.Unmap()); r != "" {
			return "IPv4-mapped " + r
		}
		return ""
	case ip.Is4():
		for _, b := range blocked4 {
			if b.prefix.Contains(ip) {
				return b.why
			}
		}
		return ""
	}
	// IPv6 forms that carry an IPv4 address are judged by that address: a
	// NAT64 gateway or a 6to4 relay would forward the connection to it.
	a := ip.As16()
	if nat64.Contains(ip) {
		if r := classify(netip.AddrFrom4([4]byte(a[12:16]))); r != "" {
			return "NAT64 form of " + r
		}
		return ""
	}
	if sixToFour.Contains(ip) {
		if r := classify(netip.AddrFrom4([4]byte(a[2:6]))); r != "" {
			return "6to4 form of " + r
		}
		return ""
	}
	for _, b := range blocked6 {
		if b.prefix.Contains(ip) {
			return b.why
		}
	}
	if !globalUnicast6.Contains(ip) {
		return "reserved (not IPv6 global unicast)"
	}
	return ""
}
