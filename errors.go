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
