package mesh

import (
	"image"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"faceswap"
	"faceswap/internal/testenv"
	"faceswap/resample"
	"faceswap/swap"
	"faceswap/swap/assess"
)

// TestSourceGlassesReported: a source face's glasses, whose frames the
// engine paints out, are reported with the pair (an occlusion finding),
// and what the engine paints on a face without glasses is not: strands of
// hair over one eye of a woman looking down, and the mirrored eye make-up
// of a woman turned 50°, both painted as frames, were reported as glasses
// before the two gates (acrossEyes, the source's yaw).
func TestSourceGlassesReported(t *testing.T) {
	hard := func(n string) func(t *testing.T) *image.NRGBA {
		return func(t *testing.T) *image.NRGBA { return testenv.Load(t, filepath.Join(testenv.HardDir(t), n)) }
	}
	shared := func(n string) func(t *testing.T) *image.NRGBA {
		return func(t *testing.T) *image.NRGBA { return photo(t, n) }
	}
	demo2 := func(t *testing.T) *image.NRGBA { return testenv.Load(t, testenv.Demo(t, 2)) }
	for _, c := range []struct {
		name     string
		src, dst func(t *testing.T) *image.NRGBA
		sf, tf   int // faces from the left
		want     bool
	}{
		{"gold wire frames", shared("portrait_man_glasses_beard_santa.jpg"), shared("portrait_woman_frontal_smiling.png"), 0, 0, true},
		{"red frames", hard("glasses_clear_woman_drinking_straw.jpg"), shared("portrait_man_frontal_luciano.png"), 0, 0, true},
		{"no glasses", shared("portrait_man_frontal_luciano.png"), shared("portrait_woman_frontal_smiling.png"), 0, 0, false},
		{"hair over one eye", demo2, hard("group2_women_phones_smile_teeth_occlusion.jpg"), 1, 1, false},
		{"eye make-up on a turned face", demo2, hard("group2_women_phones_smile_teeth_occlusion.jpg"), 0, 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			src, dst := c.src(t), c.dst(t)
			p := swap.Pair{Source: fromLeft(t, faces(t, src), c.sf), Target: fromLeft(t, faces(t, dst), c.tf)}
			regions, err := New().Swap(clone(dst), src, []swap.Pair{p}, swap.Options{Interpolation: resample.Bilinear})
			if err != nil {
				t.Fatal(err)
			}
			var got bool
			for _, f := range regions[0].Findings {
				if f.Reason == assess.Occlusion && strings.Contains(f.Detail, "glasses") {
					got = true
				}
			}
			t.Logf("findings: %+v", regions[0].Findings)
			if got != c.want {
				t.Errorf("glasses reported: %v, want %v", got, c.want)
			}
		})
	}
}

// TestFramesPainted: frames are painted out of a source that wears
// glasses; strands of hair over one eye of a woman looking down are
// painted as frames (which hides some of them) but are not glasses; and
// nothing is painted on a woman turned 50°, whose eye make-up, painted as
// frames, left the outline of a pair of spectacles round the new eyes
// (both in face-api's demo photo 2).
func TestFramesPainted(t *testing.T) {
	straw := func(t *testing.T) *image.NRGBA {
		return testenv.Load(t, filepath.Join(testenv.HardDir(t), "glasses_clear_woman_drinking_straw.jpg"))
	}
	demo2 := func(t *testing.T) *image.NRGBA { return testenv.Load(t, testenv.Demo(t, 2)) }
	luciano := func(t *testing.T) *image.NRGBA { return photo(t, "portrait_man_frontal_luciano.png") }
	phones := func(t *testing.T) *image.NRGBA {
		return testenv.Load(t, filepath.Join(testenv.HardDir(t), "group2_women_phones_smile_teeth_occlusion.jpg"))
	}
	for _, c := range []struct {
		name            string
		src, dst        func(t *testing.T) *image.NRGBA
		sf, tf          int // from the left
		paints, glasses bool
	}{
		{"red frames", straw, luciano, 0, 0, true, true},
		{"hair over one eye", demo2, phones, 1, 1, true, false},
		{"eye make-up on a turned face", demo2, luciano, 0, 0, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			src, dst := c.src(t), c.dst(t)
			p := swap.Pair{Source: fromLeft(t, faces(t, src), c.sf), Target: fromLeft(t, faces(t, dst), c.tf)}
			w := warpedFor(src, dst, p)
			painted, glasses := paintFrames(w.img, w.crop, w.T, w.cheeks, w.ox, w.oy, w.fw)
			var n int
			for _, v := range painted.v {
				if v > 0 {
					n++
				}
			}
			t.Logf("%d pixels painted, glasses %v", n, glasses)
			if glasses != c.glasses || (n > 0) != c.paints {
				t.Errorf("glasses %v with %d pixels painted, want glasses %v, painted %v", glasses, n, c.glasses, c.paints)
			}
		})
	}
}

// fromLeft returns the k-th of fs from the image's left (by box).
func fromLeft(t *testing.T, fs []faceswap.Face, k int) faceswap.Face {
	t.Helper()
	fs = slices.Clone(fs)
	slices.SortFunc(fs, func(a, b faceswap.Face) int { return int(a.Box.X - b.Box.X) })
	if k >= len(fs) {
		t.Fatalf("%d faces, want face %d from the left", len(fs), k)
	}
	return fs[k]
}
