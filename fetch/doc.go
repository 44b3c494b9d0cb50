// Package fetch turns the image fields of a request into bytes without
// letting a client aim the server at places it must not reach (SPEC §5).
//
// Resolve accepts what the hosted API accepts in source_img and target_img:
// an http(s) URL, a data URI, or raw base64. Base64 is measured before it is
// decoded, so an oversized value costs no memory beyond the request itself.
//
// Fetcher fetches URLs. Its address check runs at dial time, after DNS
// resolution and on every redirect: the host is resolved by the fetcher
// itself, every resolved address must be public (not loopback, private,
// link-local or metadata, CGNAT, multicast, broadcast, unspecified,
// documentation or otherwise reserved, nor an IPv4-mapped, NAT64 or 6to4 form
// of those), and the connection goes to a checked address, so a DNS answer
// that changes between check and connect (rebinding) cannot slip through.
// Config.Allow permits named hosts or address ranges anyway; tests use it
// for a loopback server. There is no proxy, there are connect and total
// timeouts, at most Config.MaxRedirects redirects, and the body is cut off
// at Config.MaxBytes while it streams.
//
// All errors are *faceswap.Error values with the SPEC §4 status and one
// public sentence; the internal cause is in Err for the log.
package fetch
