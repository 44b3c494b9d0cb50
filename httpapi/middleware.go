package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"
)

// state is what the layers of one request tell each other and the log.
type state struct {
	id     string
	route  string
	key    string // key ID once authenticated
	status int    // set by writeError; otherwise taken from the response
	err    error  // what writeError answered
}

type stateKey struct{}

// stateOf returns the request's state (an empty one outside serve, so
// handlers can be called directly in tests).
func stateOf(r *http.Request) *state {
	if st, ok := r.Context().Value(stateKey{}).(*state); ok {
		return st
	}
	return &state{id: "-"}
}

// RequestID returns the id the server gave r ("" outside the API).
func RequestID(ctx context.Context) string {
	if st, ok := ctx.Value(stateKey{}).(*state); ok {
		return st.id
	}
	return ""
}

func newRequestID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// recorder remembers the status and size of a response.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// serve wraps every request: it gives it an id (X-Request-Id), recovers a
// panic into a 500, counts it in the metrics and writes one log line.
func (a *API) serve(w http.ResponseWriter, r *http.Request, route string, h routeHandler) {
	start := time.Now()
	st := &state{id: newRequestID(), route: route}
	r = r.WithContext(context.WithValue(r.Context(), stateKey{}, st))
	rec := &recorder{ResponseWriter: w}
	rec.Header().Set("X-Request-Id", st.id)
	a.metrics.httpInFlight.Inc()
	defer func() {
		a.metrics.httpInFlight.Dec()
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			err := fmt.Errorf("panic: %v\n%s", p, debug.Stack())
			if rec.status == 0 {
				a.writeError(rec, r, err)
			} else {
				st.err, st.status = err, http.StatusInternalServerError
			}
		}
		status := st.status
		if status == 0 {
			status = rec.status
		}
		if status == 0 {
			status = http.StatusOK
		}
		elapsed := time.Since(start)
		a.metrics.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
		a.metrics.latency.WithLabelValues(route).Observe(elapsed.Seconds())
		level := slog.LevelInfo
		switch {
		case status >= 500 && status != statusClientClosed:
			level = slog.LevelError
		case route == "/healthz" || route == "/readyz" || route == "/metrics":
			level = slog.LevelDebug
		}
		attrs := []slog.Attr{
			slog.String("request_id", st.id),
			slog.String("method", r.Method),
			slog.String("path", sanitize(r.URL.Path, 200)),
			slog.String("route", route),
			slog.Int("status", status),
			slog.Int64("bytes", rec.bytes),
			slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
			slog.String("remote", r.RemoteAddr),
		}
		if st.key != "" {
			attrs = append(attrs, slog.String("key", st.key))
		}
		if st.err != nil {
			attrs = append(attrs, slog.String("error", st.err.Error()))
		}
		a.log.LogAttrs(r.Context(), level, "request", attrs...)
	}()
	h(rec, r)
}
