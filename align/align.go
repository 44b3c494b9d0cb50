// Package align computes the similarity transforms that align faces to the
// five-point templates the neural models were trained on: ArcFace's
// 112-px crop (w600k_r50), inswapper's 128-px crop, and the FFHQ 512-px
// crop of the restoration models.
//
// Template points are in pixel-index coordinates (the centre of pixel i is
// at i), as the reference implementations use them. faceswap.Point
// keypoints have pixel edges at integers (the centre of pixel i is at
// i+0.5); Crop converts.
//
//	m, err := align.Crop(face.Keypoints, align.ArcFace112)
//	raster.SampleImage(buf, img, raster.Crop{W: 112, H: 112, M: m, Kernel: resample.Bilinear, Norm: raster.Norm{Scale: 1 / 127.5, Offset: -1}, Layout: raster.NCHW})
package align

import (
	"errors"
	"math"

	"faceswap"
	"faceswap/raster"
)

// ArcFace112 is the ArcFace five-point template of a 112×112 crop: the
// eyes, the nose tip and the mouth corners, left and right as seen in the
// image (faceswap.Face.Keypoints order).
var ArcFace112 = [5]faceswap.Point{
	{X: 38.2946, Y: 51.6963},
	{X: 73.5318, Y: 51.5014},
	{X: 56.0252, Y: 71.7366},
	{X: 41.5493, Y: 92.3655},
	{X: 70.7299, Y: 92.2041},
}

// Inswapper128 is the template of inswapper_128's 128×128 crop: ArcFace112
// shifted by 8 px in x.
var Inswapper128 = shift(ArcFace112, 8, 0)

// FFHQ512 is the template of the 512×512 crop GFPGAN and CodeFormer
// restore.
var FFHQ512 = [5]faceswap.Point{
	{X: 192.98138, Y: 239.94708},
	{X: 318.90277, Y: 240.1936},
	{X: 256.63416, Y: 314.01935},
	{X: 201.26117, Y: 371.41043},
	{X: 313.08905, Y: 371.15118},
}

func shift(t [5]faceswap.Point, dx, dy float64) [5]faceswap.Point {
	for i := range t {
		t[i].X += dx
		t[i].Y += dy
	}
	return t
}

// Similarity returns the similarity transform (rotation, uniform scale
// and translation; no reflection or shear) that maps the points from onto
// the points to with the least sum of squared distances, as Umeyama's
// method does. In 2-D the optimum has a closed form: with both point sets
// centred, a = s·cos θ = Σ(f·t)/Σ|f|² and b = s·sin θ = Σ(f×t)/Σ|f|².
// It needs at least two points, as many in to as in from, and from points
// that are not all the same.
func Similarity(from, to []faceswap.Point) (raster.Affine, error) {
	if len(from) != len(to) {
		return raster.Affine{}, errors.New("align: the point sets differ in length")
	}
	if len(from) < 2 {
		return raster.Affine{}, errors.New("align: a similarity needs at least two points")
	}
	n := float64(len(from))
	var fx, fy, tx, ty float64
	for i := range from {
		fx += from[i].X
		fy += from[i].Y
		tx += to[i].X
		ty += to[i].Y
	}
	fx, fy, tx, ty = fx/n, fy/n, tx/n, ty/n
	var dot, cross, norm float64
	for i := range from {
		ax, ay := from[i].X-fx, from[i].Y-fy
		bx, by := to[i].X-tx, to[i].Y-ty
		dot += ax*bx + ay*by
		cross += ax*by - ay*bx
		norm += ax*ax + ay*ay
	}
	if !(norm > 1e-12*n) || math.IsInf(norm, 0) || math.IsNaN(dot+cross) {
		return raster.Affine{}, errors.New("align: the source points are all the same, or not finite")
	}
	a, b := dot/norm, cross/norm
	// to = [a −b; b a]·from + t
	return raster.Affine{a, -b, tx - a*fx + b*fy, b, a, ty - b*fx - a*fy}, nil
}

// Crop returns the map from a crop aligned to template (pixel indices of
// the crop) to pixel-index positions in the image whose keypoints are kps
// (faceswap.Point convention): the transform a raster.Crop takes
// to fill the crop. Its inverse maps the image onto the crop.
func Crop(kps, template [5]faceswap.Point) (raster.Affine, error) {
	var img [5]faceswap.Point
	for i, p := range kps {
		img[i] = faceswap.Point{X: p.X - 0.5, Y: p.Y - 0.5}
	}
	return Similarity(template[:], img[:])
}
