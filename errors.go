package faceswap

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is an error that carries the HTTP status and the one-sentence public
// message a client sees. The wrapped Err is internal detail for the log only.
type Error struct {
	Status  int    // HTTP status code
	Message string // public, one clear sentence
	Err     error  // internal cause; never shown to clients
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + " (" + e.Err.Error() + ")"
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given status and a formatted public message.
func Errorf(status int, format string, args ...any) *Error {
	return &Error{Status: status, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error with the given status and public message wrapping the
// internal cause err.
func Wrap(status int, err error, format string, args ...any) *Error {
	return &Error{Status: status, Message: fmt.Sprintf(format, args...), Err: err}
}

// StatusOf returns the HTTP status of err: the Status of the first *Error in
// its chain, or 500 for anything else.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return http.StatusInternalServerError
}

// PublicMessage returns the message a client may see for err. Errors that are
// not *Error are bugs: their detail stays in the log.
func PublicMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal server error; the request id in the X-Request-Id header identifies it in the server log."
}

// FormatBytes writes a size as the public messages give it: "20 MB",
// "1.5 MB", "50 KB", "1000 bytes".
func FormatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
