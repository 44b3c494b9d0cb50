package httpapi

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"faceswap"
)

// deadlineWriter records the read deadlines set through a
// ResponseController.
type deadlineWriter struct {
	*httptest.ResponseRecorder
	set []time.Time
}

func (w *deadlineWriter) SetReadDeadline(t time.Time) error {
	w.set = append(w.set, t)
	return nil
}

// chunks reads out its parts one per Read, then fails like a connection
// whose read deadline passed.
type chunks struct{ parts []string }

func (c *chunks) Read(b []byte) (int, error) {
	if len(c.parts) == 0 {
		return 0, os.ErrDeadlineExceeded
	}
	n := copy(b, c.parts[0])
	c.parts = c.parts[1:]
	return n, nil
}

func (c *chunks) Close() error { return nil }

func TestPacedBody(t *testing.T) {
	a := &API{opt: Options{BodyGrace: 10 * time.Second, BodyRate: 1000}}
	w := &deadlineWriter{ResponseRecorder: httptest.NewRecorder()}
	r := httptest.NewRequest("POST", "/", nil)
	r.Body = &chunks{parts: []string{strings.Repeat("a", 500), strings.Repeat("b", 500)}}
	limit := time.Now().Add(30 * time.Second)
	done := a.paceBody(w, r, limit)
	start := r.Body.(*pacedBody).start
	buf := make([]byte, 1000)
	// First read: grace + one buffer at 1000 B/s.
	if n, err := r.Body.Read(buf); n != 500 || err != nil {
		t.Fatalf("read %d, %v", n, err)
	}
	if want := start.Add(11 * time.Second); !w.set[0].Equal(want) {
		t.Errorf("first deadline %v after the start, want 11s", w.set[0].Sub(start))
	}
	// Second: 500 bytes in, so 1.5 s of transfer allowed after the grace.
	r.Body.Read(buf)
	if got := w.set[1].Sub(start); got != 11500*time.Millisecond {
		t.Errorf("second deadline %v after the start, want 11.5s", got)
	}
	// Never past the request's own deadline.
	r.Body.(*pacedBody).n = 1 << 30
	_, err := r.Body.Read(buf)
	if got := w.set[len(w.set)-1]; !got.Equal(limit) {
		t.Errorf("deadline %v, want the request's %v", got, limit)
	}
	// The connection's timeout becomes the 408.
	var fe *faceswap.Error
	if !errors.As(err, &fe) || fe.Status != http.StatusRequestTimeout || !strings.Contains(fe.Message, "arrived too slowly") {
		t.Fatalf("error %v, want a 408", err)
	}
	if got, _ := readError(err).(*faceswap.Error); got == nil || got.Status != 408 {
		t.Errorf("readError gives %v", readError(err))
	}
	if got, _ := multipartError(err).(*faceswap.Error); got == nil || got.Status != 408 {
		t.Errorf("multipartError gives %v", multipartError(err))
	}
	// Once the body is read the deadline is lifted.
	done()
	if last := w.set[len(w.set)-1]; !last.IsZero() {
		t.Errorf("deadline after the body: %v", last)
	}
	// parseForm turns it into its answer.
	r = httptest.NewRequest("POST", "/", nil)
	r.Header.Set("Content-Type", "application/json")
	r.Body = &chunks{parts: []string{`{"source_img": "aGk=", `}}
	a.paceBody(w, r, limit)
	if _, err := parseForm(w, r, 1<<20, 1<<20, swapFields); statusOf(err) != 408 {
		t.Errorf("parseForm: %v, want a 408", err)
	}
}
