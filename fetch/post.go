package fetch

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"

	"faceswap"
)

// CheckURL refuses a URL the fetcher would never reach for its form alone:
// a scheme other than http and https, credentials, no host, a bad port.
// Addresses are checked when connecting. The error is about the request
// field field (faceswap.InField).
func CheckURL(field, raw string) error {
	if _, e := checkURL(raw, false); e != nil {
		return faceswap.InField(field, e)
	}
	return nil
}

// Post sends body to rawURL with the given headers through the same checked
// dialer as Fetch (so the same addresses are refused, allow-list included)
// and returns the answer's status. Redirects are not followed: a webhook
// receiver answers where it was told to be. The answer's body is read (up
// to 64 KB, to reuse the connection) and dropped.
//
// The error is a *faceswap.Error: 400 for a refused URL or address (a
// retry cannot help), 502 or 504 for a failed delivery.
func (f *Fetcher) Post(ctx context.Context, rawURL string, body []byte, header http.Header) (int, error) {
	u, perr := checkURL(rawURL, false)
	if perr != nil {
		return 0, perr
	}
	client := &http.Client{
		Transport:     f.transport,
		Timeout:       f.cfg.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	var tlsFailed handshakes
	req, err := http.NewRequestWithContext(tlsFailed.watch(ctx), http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return 0, faceswap.Wrap(http.StatusBadRequest, err, "The URL is not valid.")
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("User-Agent", "faceswap-webhook")
	resp, err := client.Do(req)
	if err != nil {
		return 0, classify502(ctx, err, false, tlsFailed.Load())
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, faceswap.Wrap(http.StatusBadGateway, fmt.Errorf("POST %s: %s", u.Redacted(), resp.Status),
			"The URL answered %d.", resp.StatusCode)
	}
	return resp.StatusCode, nil
}
