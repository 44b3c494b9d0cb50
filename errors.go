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
	// Field is the request field the error is about when the code that
	// wrote Message did not know it (a fetcher, an image decoder): Public
	// names it. InField sets it.
	Field string
	Err   error // internal cause; never shown to clients
}

// Public is the message a client sees: Message, after "Field: " when the
// error is about a request field.
func (e *Error) Public() string {
	if e.Field != "" {
		return e.Field + ": " + e.Message
	}
	return e.Message
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Public() + " (" + e.Err.Error() + ")"
	}
	return e.Public()
}

// InField says which request field err is about: an *Error in err that
// names no field yet comes back as a copy naming field (the innermost field
// given wins); any other error comes back as it is.
func InField(field string, err error) error {
	var e *Error
	if !errors.As(err, &e) || e.Field != "" {
		return err
	}
	c := *e
	c.Field = field
	return &c
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

// Classify is the one decision of what a client learns of err: its status
// and public message. An *Error of a client error (4xx) or of a failure
// upstream or of availability (502, 503, 504) is answered as it says;
// anything else is a bug, answered 500 with a sentence pointing to the log
// entry under ref ("request id req_…", "job id …"; "" for none). The
// internal detail never leaves the log.
func Classify(err error, ref string) (status int, message string) {
	var e *Error
	if errors.As(err, &e) && (e.Status >= 400 && e.Status < 500 || e.Status >= 502 && e.Status <= 504) {
		return e.Status, e.Public()
	}
	if ref == "" {
		return http.StatusInternalServerError, "Internal server error; the server log has the detail."
	}
	return http.StatusInternalServerError, "Internal server error; the server log has the detail under " + ref + "."
}

// StatusOf returns the status Classify gives err.
func StatusOf(err error) int {
	status, _ := Classify(err, "")
	return status
}

// PublicMessage returns the message Classify gives err, without a log
// reference.
func PublicMessage(err error) string {
	_, msg := Classify(err, "")
	return msg
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
