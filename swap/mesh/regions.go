package mesh

import "faceswap/landmark"

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
