package httpapi

import (
	"net/http"
	"testing"

	"faceswap/jobs"
)

// TestSetQuality: X-Faces-Quality lists every face in request order with
// two decimals, X-Faces-Poor only the poor ones with their reasons joined
// by "+", and is absent when none is poor; no faces, no headers.
func TestSetQuality(t *testing.T) {
	poor := func(reasons ...string) []jobs.PoorQuality {
		var out []jobs.PoorQuality
		for _, r := range reasons {
			out = append(out, jobs.PoorQuality{Reason: r, Detail: "…"})
		}
		return out
	}
	for _, c := range []struct {
		faces         []jobs.FaceQuality
		quality, poor string
	}{
		{nil, "", ""},
		{[]jobs.FaceQuality{{Index: 0, Quality: 1}}, "0=1.00", ""},
		{[]jobs.FaceQuality{{Index: 2, Quality: 0.92}, {Index: 0, Quality: 0.41, Poor: poor("source-resolution")}}, "2=0.92,0=0.41", "0=source-resolution"},
		{[]jobs.FaceQuality{
			{Index: 0, Quality: 0.05, Poor: poor("pose-gap")},
			{Index: 1, Quality: 0.7},
			{Index: 2, Quality: 0.2, Poor: poor("source-resolution", "expression-gap")},
		}, "0=0.05,1=0.70,2=0.20", "0=pose-gap,2=source-resolution+expression-gap"},
	} {
		h := http.Header{}
		setQuality(h, c.faces)
		if got := h.Get("X-Faces-Quality"); got != c.quality {
			t.Errorf("%+v: X-Faces-Quality %q, want %q", c.faces, got, c.quality)
		}
		if got, ok := h["X-Faces-Poor"]; c.poor == "" && ok || c.poor != "" && (len(got) != 1 || got[0] != c.poor) {
			t.Errorf("%+v: X-Faces-Poor %q, want %q", c.faces, got, c.poor)
		}
	}
}
