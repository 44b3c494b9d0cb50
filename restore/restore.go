// Package restore defines face restoration: after a swap, each swapped face
// is aligned to the FFHQ 512-px template with a detector's five landmarks,
// run through a restoration model (GFPGAN or CodeFormer), blended by the
// request's face_restore_weight and pasted back under a soft mask. Only
// swapped faces are restored. The models live in sub-packages.
package restore

import (
	"image"

	"faceswap"
	"faceswap/resample"
	"faceswap/swap"
)

// Options are the request's settings a restorer uses.
type Options struct {
	// Weight is face_restore_weight, 0..1: how much of the restored face is
	// blended in (and, for CodeFormer, its fidelity weight).
	Weight float64
	// Interpolation is the kernel for aligning and pasting back.
	Interpolation resample.Kernel
	// Within, when not nil, holds one region per face: the region the
	// swap changed. The restored face is then blended only inside it,
	// its alpha scaling the restorer's own mask, so restoration reaches
	// neither beyond the swapped face nor into a neighbour the 512-px
	// FFHQ crop (about twice the face) may cover: the restored crop
	// replaces the swapped face under the swap's mask (Face Boost).
	Within []swap.Region
}

// Restorer restores faces in place.
type Restorer interface {
	// Name is the face_restore value (e.g. "GFPGANv1.4.pth").
	Name() string
	// Restore restores each face of dst (faces whose Keypoints come from the
	// facedetection detector) and returns the region each one changed.
	Restore(dst *image.NRGBA, faces []faceswap.Face, opt Options) ([]swap.Region, error)
}
