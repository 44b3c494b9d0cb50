// Package faceswap holds the domain types shared by every stage of the
// pipeline (fetch → decode → detect → select → swap → restore → encode) and
// the service around it. Implementations live in sub-packages named for what
// they give (imageio, detect, landmark, attribute, analysis) or for the
// dependency they wrap (onnx, tfjs).
package faceswap

import "math"

// Point is a position in image pixels (x right, y down).
type Point struct{ X, Y float64 }

// Point3 is a mesh vertex: X and Y in image pixels, Z in the same units,
// smaller Z being nearer the camera.
type Point3 struct{ X, Y, Z float64 }

// Circle is a circle in image pixels: centre X, Y and radius R.
type Circle struct{ X, Y, R float64 }

// Rect is an axis-aligned box in image pixels.
type Rect struct{ X, Y, W, H float64 }

// Area returns the box area (0 for an empty box).
func (r Rect) Area() float64 {
	if r.W <= 0 || r.H <= 0 {
		return 0
	}
	return r.W * r.H
}

// Center returns the box centre.
func (r Rect) Center() Point { return Point{r.X + r.W/2, r.Y + r.H/2} }

// IoU returns the intersection over union of two boxes.
func (r Rect) IoU(o Rect) float64 {
	x0, y0 := math.Max(r.X, o.X), math.Max(r.Y, o.Y)
	x1, y1 := math.Min(r.X+r.W, o.X+o.W), math.Min(r.Y+r.H, o.Y+o.H)
	if x1 <= x0 || y1 <= y0 {
		return 0
	}
	in := (x1 - x0) * (y1 - y0)
	return in / (r.Area() + o.Area() - in)
}

// Gender of a face as the attribute model judges it.
type Gender string

const (
	GenderUnknown Gender = ""
	Female        Gender = "female"
	Male          Gender = "male"
)

// Keypoint indices into Face.Keypoints.
const (
	LeftEye    = iota // the eye on the image's left
	RightEye          // the eye on the image's right
	Nose              // nose tip
	MouthLeft         // mouth corner on the image's left
	MouthRight        // mouth corner on the image's right
)

// MeshPoints is the number of vertices of the face mesh.
const MeshPoints = 468

// Face is one detected face with everything analysis found about it.
type Face struct {
	Box       Rect     // detector box, clipped to nothing (may cross the border)
	Score     float64  // detector confidence 0..1
	Keypoints [5]Point // LeftEye, RightEye, Nose, MouthLeft, MouthRight
	Mesh      []Point3 // MeshPoints vertices in image pixels; nil when not computed
	MeshScore float64  // face-presence confidence of the mesh model 0..1
	// Irises are the irises of the subject's right eye (image left) and
	// left eye in image pixels; zero when not computed.
	Irises      [2]Circle
	Gender      Gender  // GenderUnknown when not computed
	GenderScore float64 // confidence of Gender 0.5..1
	Age         float64 // years; 0 when not computed
}
