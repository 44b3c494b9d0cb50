package mesh

import (
	"faceswap"
	"faceswap/landmark"
)

// Contours of the 468-point face mesh (vertex indices as MediaPipe numbers
// them), each in order around the region. "Left" and "right" are the
// subject's: the subject's right eye is on the image's left.
var (
	faceOval  = landmark.FaceOval
	rightEye  = []int{33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7}
	leftEye   = []int{263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374, 373, 390, 249}
	innerLips = []int{78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95}
	outerLips = []int{61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181, 91, 146}
	rightBrow = []int{70, 63, 105, 66, 107, 55, 65, 52, 53, 46}
	leftBrow  = []int{300, 293, 334, 296, 336, 285, 295, 282, 283, 276}
)

// Landmarks used to measure expressions.
const (
	rightEyeTop, rightEyeBottom = 159, 145
	leftEyeTop, leftEyeBottom   = 386, 374
	innerLipTop, innerLipBottom = 13, 14
	mouthRightCorner            = 61
	mouthLeftCorner             = 291
)

// eyeMark names the mesh vertices that measure one eye: the middle of its
// upper and lower lids and its outer and inner corners.
type eyeMark struct{ top, bottom, outer, inner int }

// eyeMarks are the subject's right eye (the image's left), then its left,
// in the order of faceswap.Face.Irises.
var eyeMarks = [2]eyeMark{{rightEyeTop, rightEyeBottom, 33, 133}, {leftEyeTop, leftEyeBottom, 263, 362}}

// widerEye returns which of m's eyes (an index into eyeMarks) looks wider:
// the more visible one, as a turned face's far eye looks narrow.
func widerEye(m []faceswap.Point3) int {
	r, l := eyeMarks[0], eyeMarks[1]
	if dist(m[l.outer], m[l.inner]) > dist(m[r.outer], m[r.inner]) {
		return 1
	}
	return 0
}
