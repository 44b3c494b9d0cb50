package server_test

import (
	"net/http"
	"strings"
	"testing"

	"faceswap"
)

// TestRouting holds the router's answers: each endpoint's method (GET also
// answering HEAD), a 405 with Allow for its other methods, a 404 for any
// other path, including unclean ones that http.ServeMux would redirect and
// escaped slashes, all with the JSON error body.
func TestRouting(t *testing.T) {
	s := start(t, nil)
	key, _ := s.key(faceswap.KeyOptions{Credits: 5})
	const noRoute = "There is no such endpoint; /openapi.json describes the API."
	const noJob = "There is no such request: the id is unknown"
	for _, c := range []struct {
		method, path string
		status       int
		allow, msg   string
	}{
		{"GET", "/", 200, "", ""},
		{"POST", "/", 405, "GET", "POST is not allowed on /; use GET."},
		{"GET", "/index.html", 404, "", noRoute},
		{"GET", "//", 404, "", noRoute},
		{"GET", "/healthz", 200, "", ""},
		{"POST", "/healthz", 405, "GET", "POST is not allowed on /healthz; use GET."},
		{"GET", "/healthz/", 404, "", noRoute},
		{"GET", "/readyz", 200, "", ""},
		{"GET", "/openapi.json", 200, "", ""},
		{"PUT", "/openapi.json", 405, "GET", "PUT is not allowed on /openapi.json; use GET."},
		{"GET", "/metrics", 200, "", ""},
		{"GET", "/v1/faces", 405, "POST", "GET is not allowed on /v1/faces; use POST."},
		{"DELETE", "/v1/faces", 405, "POST", "DELETE is not allowed on /v1/faces; use POST."},
		{"GET", "/v1/faces/", 404, "", noRoute},
		{"GET", "/v1//faces", 404, "", noRoute},
		{"GET", "/v1/../v1/faces", 404, "", noRoute},
		{"GET", "/v1/get-user-credits", 200, "", ""},
		{"POST", "/v1/get-user-credits", 405, "GET", "POST is not allowed on /v1/get-user-credits; use GET."},
		{"OPTIONS", "/v1/get-user-credits", 405, "GET", "OPTIONS is not allowed on /v1/get-user-credits; use GET."},
		{"GET", "/v1/faceswap-v3-multifaceswap", 405, "POST", "GET is not allowed on /v1/faceswap-v3-multifaceswap; use POST."},
		{"PATCH", "/v2/faceswap-v3-multifaceswap", 405, "POST", "PATCH is not allowed on /v2/faceswap-v3-multifaceswap; use POST."},
		{"GET", "/v2/requests/", 404, "", noRoute},
		{"GET", "/v2/requests/abc", 404, "", noJob},
		{"POST", "/v2/requests/abc", 405, "GET", "POST is not allowed on /v2/requests/abc; use GET."},
		{"GET", "/v2/requests/abc/", 404, "", noRoute},
		{"GET", "/v2/requests/abc/status", 404, "", noJob},
		{"POST", "/v2/requests/abc/status", 405, "GET", "POST is not allowed on /v2/requests/abc/status; use GET."},
		{"GET", "/v2/requests//status", 404, "", noRoute},
		{"GET", "/v2/requests/abc/status/x", 404, "", noRoute},
		{"GET", "/v2/requests/a%2Fb", 404, "", noRoute},
		{"GET", "/V1/FACES", 404, "", noRoute},
		{"BREW", "/v1/faces", 405, "POST", "BREW is not allowed on /v1/faces; use POST."},
	} {
		r := s.do(c.method, c.path, key, "", nil)
		if r.StatusCode != c.status || r.Header.Get("Allow") != c.allow {
			t.Errorf("%s %s: %d Allow %q, want %d Allow %q", c.method, c.path, r.StatusCode, r.Header.Get("Allow"), c.status, c.allow)
			continue
		}
		if c.msg != "" && !strings.HasPrefix(r.errorMessage(t), c.msg) {
			t.Errorf("%s %s: %q, want %q", c.method, c.path, r.errorMessage(t), c.msg)
		}
	}
	// GET endpoints answer HEAD (outside the API's document)
	for _, p := range []string{"/", "/healthz", "/openapi.json"} {
		r, err := http.Head(s.url + p)
		if err != nil || r.StatusCode != 200 {
			t.Errorf("HEAD %s: %v %v", p, r, err)
			continue
		}
		r.Body.Close()
	}
}
