package faceswap_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"faceswap"
)

// TestClassify: client errors and failures upstream keep their status and
// sentence; anything else is a 500 pointing to the log, never its detail.
func TestClassify(t *testing.T) {
	secret := errors.New("detail: /var/lib/faceswap/keys.db is locked")
	for _, c := range []struct {
		err    error
		status int
		msg    string
	}{
		{faceswap.Errorf(http.StatusBadRequest, "image is required."), 400, "image is required."},
		{fmt.Errorf("context: %w", faceswap.Wrap(http.StatusNotFound, secret, "No such model.")), 404, "No such model."},
		{faceswap.Wrap(http.StatusBadGateway, secret, "The URL could not be fetched."), 502, "The URL could not be fetched."},
		{faceswap.Errorf(http.StatusServiceUnavailable, "Busy."), 503, "Busy."},
		{faceswap.Wrap(http.StatusInternalServerError, secret, "Something broke."), 500, "Internal server error; the server log has the detail under job id j1."},
		{faceswap.Errorf(http.StatusNotImplemented, "Not yet."), 500, "Internal server error; the server log has the detail under job id j1."},
		{secret, 500, "Internal server error; the server log has the detail under job id j1."},
	} {
		status, msg := faceswap.Classify(c.err, "job id j1")
		if status != c.status || msg != c.msg || strings.Contains(msg, "keys.db") {
			t.Errorf("%v: %d %q, want %d %q", c.err, status, msg, c.status, c.msg)
		}
	}
	if _, msg := faceswap.Classify(secret, ""); msg != "Internal server error; the server log has the detail." {
		t.Errorf("no reference: %q", msg)
	}
}

// TestInField: the field an error is about is data on the error, named in
// front of its public message in one place (Public, hence Classify); the
// message itself is never edited, nor the error InField was given.
func TestInField(t *testing.T) {
	base := faceswap.Wrap(http.StatusBadGateway, errors.New("dial tcp: refused"), "The URL could not be fetched.")
	err := faceswap.InField("source_img", fmt.Errorf("fetch: %w", base))
	var fe *faceswap.Error
	if !errors.As(err, &fe) || fe.Field != "source_img" || fe.Message != "The URL could not be fetched." || fe.Status != 502 {
		t.Fatalf("InField = %#v", err)
	}
	if base.Field != "" {
		t.Error("InField changed the error it was given")
	}
	if status, msg := faceswap.Classify(err, ""); status != 502 || msg != "source_img: The URL could not be fetched." {
		t.Errorf("Classify = %d %q", status, msg)
	}
	if !strings.HasPrefix(err.Error(), "source_img: The URL could not be fetched. (") || !errors.Is(err, fe.Err) {
		t.Errorf("Error() = %q, cause %v", err.Error(), fe.Err)
	}
	// The innermost field is the one named.
	if again := faceswap.InField("target_img", err); faceswap.PublicMessage(again) != "source_img: The URL could not be fetched." {
		t.Errorf("a second field: %q", faceswap.PublicMessage(again))
	}
	// Other errors pass as they are; a 500 names no field, nor its detail.
	plain := errors.New("disk full")
	if got := faceswap.InField("source_img", plain); got != plain {
		t.Errorf("InField(plain) = %v", got)
	}
	if _, msg := faceswap.Classify(faceswap.InField("source_img", faceswap.Wrap(500, plain, "Broke.")), ""); strings.Contains(msg, "source_img") {
		t.Errorf("a 500 says %q", msg)
	}
	if faceswap.InField("source_img", nil) != nil {
		t.Error("InField(nil) is not nil")
	}
}
