package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"faceswap"
)

// statusClientClosed is logged (and counted) when the client went away
// before the answer; nobody receives it.
const statusClientClosed = 499

// Errors of the service itself (the pipeline, the store and the fetcher
// bring their own *faceswap.Error values).
var (
	errOverloaded = faceswap.Errorf(http.StatusServiceUnavailable, "The server is busy: every worker is in use and the queue is full; retry shortly.")
	errNoRoute    = faceswap.Errorf(http.StatusNotFound, "There is no such endpoint; /openapi.json describes the API.")
	errDraining   = faceswap.Errorf(http.StatusServiceUnavailable, "The server is shutting down; retry on another node or shortly.")
)

// classify maps any error to the status and public message the client
// gets: faceswap.Classify's, after what only an HTTP request has (its
// deadline, its body's limit, its client gone).
func (a *API) classify(err error, requestID string) (int, string) {
	var (
		fe  *faceswap.Error
		mbe *http.MaxBytesError
		de  deadlineError
	)
	switch {
	case errors.As(err, &de), errors.Is(err, context.DeadlineExceeded) && !errors.As(err, &fe):
		return http.StatusGatewayTimeout, fmt.Sprintf("The request did not finish within the server's deadline of %v.", a.opt.Deadline)
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("The request body is over the server's limit of %s.", faceswap.FormatBytes(mbe.Limit))
	}
	status, msg := faceswap.Classify(err, "request id "+requestID)
	if status == http.StatusInternalServerError && errors.Is(err, context.Canceled) {
		return statusClientClosed, "The client closed the request."
	}
	return status, msg
}

// deadlineError marks a failure that happened because the request's own
// deadline passed (whatever the failing step reported: a fetch cut short
// by it is a 504, not a 502).
type deadlineError struct{ err error }

func (e deadlineError) Error() string { return "request deadline exceeded: " + e.err.Error() }
func (e deadlineError) Unwrap() error { return e.err }

// fail answers err, as a 504 when ctx (the request's deadline) has expired.
func (a *API) fail(w http.ResponseWriter, r *http.Request, ctx context.Context, err error) {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) && r.Context().Err() == nil {
		err = deadlineError{err}
	}
	a.writeError(w, r, err)
}

// errorBody is the body of every error response.
type errorBody struct {
	Error string `json:"error"`
}

// writeError answers err: status and message from classify, Retry-After on
// 503. The detail goes to the request's log line (see serve), under its id.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	st := stateOf(r)
	status, msg := a.classify(err, st.id)
	st.err, st.status = err, status
	if status == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", strconv.Itoa(a.opt.RetryAfterSeconds))
	}
	writeJSON(w, status, errorBody{msg})
}

// writeJSON writes v as the JSON body with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil { // only our own types get here; they always marshal
		body, status = []byte(`{"error":"Internal server error."}`), http.StatusInternalServerError
	}
	body = append(body, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(body)
}
