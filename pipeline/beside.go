package pipeline

import (
	"fmt"
	"image"
	"runtime/debug"

	"faceswap"
	"faceswap/analysis"
)

// beside runs fn on another goroutine and returns a wait function giving
// its error; a panic in fn becomes that error rather than ending the
// process.
func beside(fn func() error) (wait func() error) {
	done := make(chan error, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Errorf("panic: %v\n%s", p, debug.Stack())
			}
		}()
		done <- fn()
	}()
	return func() error { return <-done }
}

// besideSwap is swap.Options.Beside with the helper granted: fn runs on
// another goroutine, and a panic in it is raised again by wait, on the
// request's goroutine, where a panic in the serial swap would have been.
func besideSwap(fn func()) (wait func()) {
	w := beside(func() error { fn(); return nil })
	return func() {
		if err := w(); err != nil {
			panic(err)
		}
	}
}

// decodeBoth decodes the source and target images, the source on the
// helper's goroutine. Errors keep the serial order: the source's first.
func (p *Pipeline) decodeBoth(r *Request) (src, dst *image.NRGBA, err error) {
	wait := beside(func() (err error) { src, err = p.Decode("source_img", r.Source); return err })
	dst, derr := p.Decode("target_img", r.Target)
	if err := wait(); err != nil {
		return nil, nil, err
	}
	return src, dst, derr
}

// analyzeBoth analyses both images, the source on the helper's goroutine.
func (p *Pipeline) analyzeBoth(src, dst *image.NRGBA, so, do analysis.Options) (srcFaces, dstFaces []faceswap.Face, err error) {
	wait := beside(func() (err error) { srcFaces, err = p.Analyzer.Analyze(src, so); return err })
	dstFaces, derr := p.Analyzer.Analyze(dst, do)
	if err := wait(); err != nil {
		return nil, nil, err
	}
	return srcFaces, dstFaces, derr
}
