// Package client is a Go client of the faceswap API: the hosted
// "Faceswap V3 Multifaceswap" contract that faceswap serve answers (the
// synchronous swap, POST /v1/faces and the credits).
//
// A Client holds the base URL and the key; every method takes a context
// and returns its result or an error:
//
//	c, err := client.New("http://127.0.0.1:8080", os.Getenv("FACESWAP_KEY"))
//	source, err := client.ImageFile("crew.jpg")
//	target := client.ImageURL("https://example.com/office.jpg") // the server fetches it
//
//	// Which face has which index (free): numbered as the swap numbers them.
//	faces, err := c.Faces(ctx, client.FacesRequest{Image: target, DetectionFaceOrder: client.LeftRight})
//
//	res, err := c.Swap(ctx, client.SwapRequest{
//		Source: source, Target: target,
//		SourceFacesIndex: []int{0, 1}, InputFacesIndex: []int{2, 0},
//		DetectionFaceOrder: client.LeftRight,
//	})
//	os.WriteFile("swapped.jpg", res.Image, 0o644) // res also has FacesSwapped, Timings, Faces, RemainingCredits
//
// An error the API answered is a *Error carrying the status, the API's
// one-sentence message, the request id and, for 429 and 503, how long to
// wait; nothing is charged for it:
//
//	var apiErr *client.Error
//	if errors.As(err, &apiErr) && apiErr.Status == http.StatusUnprocessableEntity { … }
//
// Requests are JSON bodies as the hosted API's contract describes them
// (Faces is this server's extension); images go inline as base64 or as
// URLs. The package's examples are complete programs; go test runs them
// against a real server with the real models.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client calls one faceswap server with one API key. It is safe for
// concurrent use.
type Client struct {
	base      *url.URL
	key       string
	http      *http.Client
	userAgent string
	maxBody   int64
}

// Option changes a Client made by New.
type Option func(*Client)

// WithHTTPClient sends requests through hc (default: a client with no
// overall timeout, so the context decides).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// WithUserAgent sets the User-Agent header (default "faceswap-go-client").
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// WithMaxResponse limits how many bytes of one answer are read (default
// 256 MiB); a longer answer is an error.
func WithMaxResponse(n int64) Option { return func(c *Client) { c.maxBody = n } }

// New returns a client of the server at baseURL (scheme and host, and a
// path prefix if the API is mounted under one) that sends key as
// x-api-key.
func New(baseURL, key string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: base URL %q is not an http(s) URL with a host", baseURL)
	}
	c := &Client{base: u, key: key, http: &http.Client{}, userAgent: "faceswap-go-client", maxBody: 256 << 20}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Error is an error the API answered: its status, its one-sentence
// message, the request id its log line has, and, with 429 and 503, the
// Retry-After it asked for.
type Error struct {
	Status     int
	Message    string
	RequestID  string
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	return fmt.Sprintf("faceswap: %d %s: %s", e.Status, http.StatusText(e.Status), e.Message)
}

// Meta is what every metered answer says besides its body.
type Meta struct {
	RequestID        string
	RemainingCredits int64 // the key's credits (free and paid) after the request; -1 when not given
	Warning          string
}

func metaOf(h http.Header) Meta {
	m := Meta{RequestID: h.Get("X-Request-Id"), RemainingCredits: -1, Warning: h.Get("Warning")}
	if v, err := strconv.ParseInt(h.Get("X-Remaining-Credits"), 10, 64); err == nil {
		m.RemainingCredits = v
	}
	return m
}

// do sends one request (body, when not nil, as JSON) and returns the
// answer when its status is 2xx. Any other status is read into an *Error.
// The caller closes the body.
func (c *Client) do(ctx context.Context, method, path string, body any) (*http.Response, error) {
	return c.doHeader(ctx, method, path, body, nil)
}

// doHeader is do with extra request headers.
func (c *Client) doHeader(ctx context.Context, method, path string, body any, header http.Header) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("client: encoding the request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + path
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.key != "" {
		req.Header.Set("x-api-key", c.key)
	}
	req.Header.Set("User-Agent", c.userAgent)
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, c.apiError(resp)
}

// apiError reads an error answer: {"error": "..."} from the API, or, from
// something else in the way (a proxy's HTML page), the status alone.
func (c *Client) apiError(resp *http.Response) *Error {
	e := &Error{Status: resp.StatusCode, RequestID: resp.Header.Get("X-Request-Id")}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		e.RetryAfter = time.Duration(s) * time.Second
	}
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var body struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(data, &body) == nil && body.Error != "" {
		e.Message = body.Error
	} else {
		e.Message = fmt.Sprintf("the server answered %s without the API's error body", resp.Status)
	}
	return e
}

// read reads an answer's body within the client's limit.
func (c *Client) read(resp *http.Response) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("client: reading the answer: %w", err)
	}
	if int64(len(data)) > c.maxBody {
		return nil, fmt.Errorf("client: the answer is over %d bytes", c.maxBody)
	}
	return data, nil
}

// decodeJSON reads a JSON answer into out.
func (c *Client) decodeJSON(resp *http.Response, out any) error {
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" {
		return fmt.Errorf("client: the answer is %q, not JSON", resp.Header.Get("Content-Type"))
	}
	data, err := c.read(resp)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("client: decoding the answer: %w", err)
	}
	return nil
}

// answer decodes the JSON answer of a call (resp, or the call's error err)
// into out and returns the answer's Meta.
func (c *Client) answer(resp *http.Response, err error, out any) (Meta, error) {
	if err != nil {
		return Meta{}, err
	}
	defer resp.Body.Close()
	if err := c.decodeJSON(resp, out); err != nil {
		return Meta{}, err
	}
	return metaOf(resp.Header), nil
}

// Credits is the calling key's balance.
type Credits struct {
	Credits     int64 `json:"credits"`      // paid credits
	FreeCredits int64 `json:"free-credits"` // spent before paid ones
}

// Credits returns the calling key's credits (GET /v1/get-user-credits; free
// and not rate limited).
func (c *Client) Credits(ctx context.Context) (*Credits, error) {
	resp, err := c.do(ctx, http.MethodGet, "/v1/get-user-credits", nil)
	var out Credits
	if _, err := c.answer(resp, err, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// errNoImage is returned for a request without an image.
var errNoImage = errors.New("client: an image is required (ImageURL, ImageBytes or ImageFile)")
