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
