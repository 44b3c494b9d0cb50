package httpapi

import (
	"errors"
	"io"
	"net/http"
	"os"
	"time"

	"faceswap"
)

// Defaults of Options.BodyGrace and Options.BodyRate.
const (
	defaultBodyGrace = 10 * time.Second
	defaultBodyRate  = 64 << 10 // bytes per second
)

// pacedBody makes a body that arrives too slowly fail with a 408. A request
// holds a place in the pool while its body arrives, so a client trickling
// its body (slow-loris) must not keep it for long: each read moves the
// connection's read deadline to start + grace + (bytes so far + the read's
// buffer) / rate, never past the request's own deadline.
type pacedBody struct {
	r        io.ReadCloser
	rc       *http.ResponseController
	start    time.Time
	grace    time.Duration
	rate     float64 // bytes per second
	limit    time.Time
	n        int64
	deadline time.Time // the one last set
}

// errSlowBody is returned by a pacedBody whose deadline passed; it holds
// the 408 to answer.
type errSlowBody struct{ e *faceswap.Error }

func (e errSlowBody) Error() string { return e.e.Error() }
func (e errSlowBody) Unwrap() error { return e.e }

func (p *pacedBody) Read(b []byte) (int, error) {
	d := p.start.Add(p.grace + time.Duration(float64(p.n+int64(len(b)))/p.rate*float64(time.Second)))
	if d.After(p.limit) {
		d = p.limit
	}
	if !d.Equal(p.deadline) {
		p.rc.SetReadDeadline(d) // ErrNotSupported outside a real server: then no pacing
		p.deadline = d
	}
	n, err := p.r.Read(b)
	p.n += int64(n)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		err = errSlowBody{faceswap.Wrap(http.StatusRequestTimeout, err,
			"The request body arrived too slowly: the server reads at least %s a second after the first %v, within the request's deadline.",
			faceswap.FormatBytes(int64(p.rate)), p.grace)}
	}
	return n, err
}

func (p *pacedBody) Close() error { return p.r.Close() }

// paceBody replaces r.Body by a pacedBody ending by deadline at the latest,
// and returns the function to call once the body is read: it lifts the
// read deadline, which would otherwise cut the connection (and cancel the
// request) while the request is still being worked on.
func (a *API) paceBody(w http.ResponseWriter, r *http.Request, deadline time.Time) func() {
	rc := http.NewResponseController(w)
	r.Body = &pacedBody{r: r.Body, rc: rc, start: time.Now(), grace: a.opt.BodyGrace, rate: float64(a.opt.BodyRate), limit: deadline}
	return func() { rc.SetReadDeadline(time.Time{}) }
}

// slowBodyError returns err's 408 when a slow body caused it.
func slowBodyError(err error) (error, bool) {
	var sb errSlowBody
	if errors.As(err, &sb) {
		return sb.e, true
	}
	return nil, false
}
