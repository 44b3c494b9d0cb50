// Package swap defines what a swap engine does: put each selected source
// face into its target face, keeping the target's pose, expression and
// lighting, and touching nothing outside the region it reports. The
// engines live in sub-packages: mesh (built in, the default) and
// inswapper (the neural inswapper_128, when its weights are installed).
package swap

import (
	"errors"
	"image"
	"net/http"
	"strings"

	"faceswap"
	"faceswap/resample"
	"faceswap/swap/assess"
)

// Pair is one swap: a face of the source image into a face of the target.
type Pair struct {
	Source faceswap.Face // analysed in the source image (with its mesh)
	Target faceswap.Face // analysed in the target image (with its mesh)
}

// Options are the request's settings an engine uses.
type Options struct {
	// Interpolation is the kernel used to warp the face and paste it back.
	Interpolation resample.Kernel
	// Beside, when set, runs fn on a second goroutine (an idle CPU lent to
	// the request) and returns a function that waits for it. An engine may
	// use it for pairs that cannot affect each other (regions that do not
	// overlap); the result must be exactly the serial one.
	Beside func(fn func()) (wait func())
}

// Region is what one swap changed: inside Bounds, Alpha (row-major,
// Bounds.Dx() per row) is how much of the new face each pixel took, 0..255.
// Pixels outside Bounds, and inside it where Alpha is 0, are untouched; a
// pixel of the target only moved, not painted (the picture around a face
// given a new outline), has an Alpha of 1.
type Region struct {
	Bounds image.Rectangle
	Alpha  []uint8
	// Findings are what the engine saw while swapping the pair that makes
	// its result poorer than the estimate made before the swap says
	// (assess.Estimate.Fold); none for most pairs.
	Findings []assess.Finding
}

// Union returns a region covering every given one, with the largest alpha
// any of them has at each pixel, and all their findings.
func Union(rs ...Region) Region {
	var b image.Rectangle
	n := 0
	var only Region
	var findings []assess.Finding
	for _, r := range rs {
		findings = append(findings, r.Findings...)
		if r.Bounds.Empty() {
			continue
		}
		b = b.Union(r.Bounds)
		only = r
		n++
	}
	switch n {
	case 0:
		return Region{Findings: findings}
	case 1:
		only.Findings = findings
		return only
	}
	u := Region{Bounds: b, Alpha: make([]uint8, b.Dx()*b.Dy()), Findings: findings}
	for _, r := range rs {
		if r.Bounds.Empty() {
			continue
		}
		w := r.Bounds.Dx()
		for y := r.Bounds.Min.Y; y < r.Bounds.Max.Y; y++ {
			src := r.Alpha[(y-r.Bounds.Min.Y)*w : (y-r.Bounds.Min.Y+1)*w]
			dst := u.Alpha[(y-b.Min.Y)*b.Dx()+r.Bounds.Min.X-b.Min.X:][:w]
			for x, a := range src {
				dst[x] = max(dst[x], a)
			}
		}
	}
	return u
}

// Engine swaps faces.
type Engine interface {
	// Name is the engine's swap_model name (e.g. "mesh", "inswapper_128").
	Name() string
	// Swap applies the pairs to dst one after another (dst is modified in
	// place; later pairs see earlier results) taking source faces from
	// src, and returns the region each pair changed.
	Swap(dst, src *image.NRGBA, pairs []Pair, opt Options) ([]Region, error)
}

// Auto is the swap_model value that picks the best installed engine.
const Auto = "auto"

// errNoEngine is the log's side of a pipeline built without engines.
var errNoEngine = errors.New(`the pipeline has no swap engine: its models are not set up (run "make setup" or "faceswap setup")`)

// Pick returns the engine a request names (case-insensitively) from the
// installed ones; "" and "auto" pick the first of preferred that is
// installed. A name that is not installed is a 404 that says how to install
// it.
func Pick(name string, installed map[string]Engine, preferred []string) (Engine, error) {
	if name == "" || strings.EqualFold(name, Auto) {
		for _, p := range preferred {
			if e, ok := installed[p]; ok {
				return e, nil
			}
		}
		return nil, faceswap.Wrap(http.StatusNotFound, errNoEngine, "No swap engine is installed on this server.")
	}
	for n, e := range installed {
		if strings.EqualFold(n, name) {
			return e, nil
		}
	}
	return nil, faceswap.Errorf(http.StatusNotFound,
		"swap_model %q is not installed on this server; install it with \"faceswap models pull %s\" or place its files in the models folder.", name, name)
}
