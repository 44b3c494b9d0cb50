package optional

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"faceswap/models"
	"faceswap/onnxfile"
)

// FuzzParse feeds arbitrary manifests to Parse: no panic; an accepted
// manifest gives every model the registry's role and file, finds each
// model by name and reads back the same after a round trip through JSON.
func FuzzParse(f *testing.F) {
	f.Add(manifestJSON)
	f.Add([]byte(`{"families":{"RetinaFace":{"inputs":[{"name":"i","shape":"1,3,H,W|scalar"}],"outputs":[{"name":"o","shape":"1,N,4"}]}},"models":[{"name":"retinaface_resnet50","license":"MIT"}]}`))
	f.Add([]byte(`{"families":{"inswapper":{"inputs":[{"shape":""}],"outputs":[{"shape":"a"}]}}}`))
	f.Add([]byte(`{"models":[{"name":"x"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := Parse(data)
		if err != nil {
			return
		}
		for _, m := range o.Models {
			if r, ok := models.Lookup(m.Name); !ok || m.Role != r.Role || m.File != r.File || !m.Optional {
				t.Fatalf("model %q: role %q, file %q, not the registry's", m.Name, m.Role, m.File)
			}
			got, err := o.Lookup(m.Name)
			if err != nil || got.File != m.File {
				t.Fatalf("Lookup(%q) = %v, %v", m.Name, got.File, err)
			}
		}
		again, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		o2, err := Parse(again)
		if err != nil {
			t.Fatalf("the manifest does not read back: %v", err)
		}
		if len(o2.Models) != len(o.Models) || len(o2.Families) != len(o.Families) {
			t.Fatalf("read back %d models, %d families; was %d, %d", len(o2.Models), len(o2.Families), len(o.Models), len(o.Families))
		}
	})
}

// FuzzFit feeds arbitrary files to the check that decides whether a user's
// model file fits its role (faceswap models import): reading its interface
// and matching it against every family must not panic, and a refusal is
// ErrMismatch. The seeds are the stand-ins, which fit.
func FuzzFit(f *testing.F) {
	o := Default()
	for _, name := range o.Names() {
		data, err := o.StandIn(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := onnxfile.ReadGraphIO(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		for _, m := range o.Models {
			if err := o.fit(m, "fuzz.onnx", g); err != nil && !errors.Is(err, ErrMismatch) {
				t.Fatalf("%s: %v is not a mismatch", m.Name, err)
			}
		}
	})
}

// FuzzContentRange feeds arbitrary Content-Range headers (a download
// server's answer) to the parser pull resumes by: no panic, no negative
// start, a total of -1 or more, and the canonical form parses back the same.
func FuzzContentRange(f *testing.F) {
	for _, s := range []string{"bytes 0-99/100", "bytes */100", "bytes 5-/*", "bytes -5/10", "bytes 1-2/-3",
		"bytes 9223372036854775807-9223372036854775807/9223372036854775807", "bytes 99999999999999999999-1/2", "bits 0-1/2", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		start, total, ok := contentRange(s)
		if !ok {
			return
		}
		if start < 0 || total < -1 {
			t.Fatalf("%q: start %d, total %d", s, start, total)
		}
		tot := "*"
		if total >= 0 {
			tot = strconv.FormatInt(total, 10)
		}
		canon := "bytes " + strconv.FormatInt(start, 10) + "-" + strconv.FormatInt(start, 10) + "/" + tot
		if strings.Contains(s, "*/") {
			canon = "bytes */" + tot
		}
		s2, t2, ok := contentRange(canon)
		if !ok || t2 != total || (!strings.Contains(s, "*/") && s2 != start) {
			t.Fatalf("%q: canonical %q parses as %d, %d, %v", s, canon, s2, t2, ok)
		}
	})
}
