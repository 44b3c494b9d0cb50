package assess

import (
	"image"
	"math"

	"faceswap"
)

// Measures are what Measure reads off one face's mesh and box.
type Measures struct {
	// Yaw, Pitch and Roll are the head's angles in degrees. Yaw is
	// positive when the face turns towards the image's right, Pitch when
	// it tilts down (towards its chest), Roll when its eye line runs down
	// to the image's right. A face looking straight at the camera is near
	// 0, 0, 0.
	Yaw, Pitch, Roll float64
	// Width is the face's width in pixels, cheek to cheek (mesh points
	// 234 and 454) measured in 3-D so that a turned face keeps its size:
	// how many pixels of detail the face has across.
	Width float64
	// MouthOpen is the inner lips' gap over the mouth's width (points 13,
	// 14 over 61, 291): about 0.02 closed, 0.15 parted, 0.3 and more wide
	// open.
	MouthOpen float64
	// EyeOpen is the eyelids' gap over the eye's width, the mean of both
	// eyes (159, 145 over 33, 133 and 386, 374 over 263, 362): 0.25–0.45
	// open; the mesh model rarely goes below 0.15 even for closed eyes.
	EyeOpen float64
	// Presence is the mesh model's face-presence score (Face.MeshScore).
	Presence float64
	// Outside is the share of the face box that lies outside its image
	// (0 when the image's bounds are not known).
	Outside float64
	// Edge is the face's EdgeWidth in its image, in pixels: how sharp it
	// is (0 when not measured).
	Edge float64
	// Meshed is whether the face has a full mesh, which all but Presence
	// and Outside are read from.
	Meshed bool
}

// Mesh points used here (MediaPipe FaceMesh numbering).
const (
	forehead = 10  // top of the face on its midline
	chin     = 152 // bottom of the chin on the midline
	upperLip = 13  // inner upper lip, midline
	lowerLip = 14  // inner lower lip, midline
	mouthL   = 61  // mouth corners
	mouthR   = 291
)

// The face's sides (image-left, image-right) at eye, cheek and jaw height:
// silhouette points whose depth the mesh model places on the head's
// outline, so the line between each pair runs across the head.
var sides = [][2]int{{234, 454}, {93, 323}, {132, 361}}

// The eyes: upper lid, lower lid, outer corner, inner corner.
var eyes = [][4]int{{159, 145, 33, 133}, {386, 374, 263, 362}}

// pitchNeutral is the pitch Pose reads on a level head looking at the
// camera, subtracted so such a head reads about 0: the forehead-to-chin
// line of the mesh leans back at the top. It is the median (8°) of the
// frontal portraits of the shared test photos (Luciano −9, Santa −4,
// Collins 12, the smiling woman 3, the 115-px man 11, the dim-light woman
// 10, the elderly man −3, the eight faces of the NASA class 2013 from −1
// to 16). Only differences between faces decide anything, so it changes
// no verdict.
const pitchNeutral = 8.0

// Measure reads a face: its pose from its mesh, its size, its mouth and
// eye openings, its mesh presence score, and, when frame (the image's
// bounds) is not empty, how much of its box the image cuts off. A face
// without a full mesh gives zero measures except Presence and Outside.
func Measure(f faceswap.Face, frame image.Rectangle) Measures {
	m := Measures{Presence: f.MeshScore, Outside: outside(f.Box, frame)}
	if len(f.Mesh) != faceswap.MeshPoints {
		return m
	}
	m.Meshed = true
	m.Yaw, m.Pitch, m.Roll = pose(f.Mesh)
	p := f.Mesh
	m.Width = dist(p[sides[0][0]], p[sides[0][1]])
	if w := dist(p[mouthL], p[mouthR]); w > 0 {
		m.MouthOpen = dist(p[upperLip], p[lowerLip]) / w
	}
	var n float64
	for _, e := range eyes {
		if w := dist(p[e[2]], p[e[3]]); w > 0 {
			m.EyeOpen += dist(p[e[0]], p[e[1]]) / w
			n++
		}
	}
	if n > 0 {
		m.EyeOpen /= n
	}
	return m
}

// MeasureIn is Measure of a face in img, with its Edge; a nil img
// measures neither Edge nor Outside.
func MeasureIn(f faceswap.Face, img *image.NRGBA) Measures {
	if img == nil {
		return Measure(f, image.Rectangle{})
	}
	m := Measure(f, img.Rect)
	m.Edge = EdgeWidth(img, f)
	return m
}

// pose returns yaw, pitch and roll in degrees. The head's own axes are
// taken from its mesh, whose points carry depth in pixel units (x right,
// y down, z away from the camera): across (x) is the mean direction of
// the lines from the face's image-left to its image-right side, down (y)
// the line from the forehead to the chin made square to x, and z their
// cross product. The angles are those of the rotation that turns the
// camera's axes into these, taken as pitch (about the head's own x axis)
// first, then yaw, then roll in the image plane, so that each reads the
// same whatever the other two are. This is a few vectors rather than a
// fit of a canonical head: on the shared test photos it reads within 8°
// of 0 on frontal faces and 44–53° on the three-quarter and near-profile
// ones, which is as fine as a gap between two faces needs.
func pose(p []faceswap.Point3) (yaw, pitch, roll float64) {
	var x vec
	for _, s := range sides {
		x = x.add(sub(p[s[1]], p[s[0]]).unit())
	}
	x = x.unit()
	y := sub(p[chin], p[forehead])
	y = y.add(x.scale(-y.dot(x))).unit()
	z := x.cross(y)
	deg := 180 / math.Pi
	yaw = math.Asin(clamp(x[2])) * deg
	pitch = math.Atan2(y[2], z[2])*deg - pitchNeutral
	roll = math.Atan2(x[1], x[0]) * deg
	return yaw, pitch, roll
}

// outside is the share of box that lies outside frame; 0 for an empty
// frame or box.
func outside(box faceswap.Rect, frame image.Rectangle) float64 {
	a := box.Area()
	if frame.Empty() || a == 0 {
		return 0
	}
	in := faceswap.Rect{X: float64(frame.Min.X), Y: float64(frame.Min.Y), W: float64(frame.Dx()), H: float64(frame.Dy())}
	x0, y0 := math.Max(box.X, in.X), math.Max(box.Y, in.Y)
	x1, y1 := math.Min(box.X+box.W, in.X+in.W), math.Min(box.Y+box.H, in.Y+in.H)
	if x1 <= x0 || y1 <= y0 {
		return 1
	}
	return 1 - (x1-x0)*(y1-y0)/a
}

type vec [3]float64

func sub(a, b faceswap.Point3) vec { return vec{a.X - b.X, a.Y - b.Y, a.Z - b.Z} }

func (v vec) add(o vec) vec             { return vec{v[0] + o[0], v[1] + o[1], v[2] + o[2]} }
func (v vec) scale(k float64) vec       { return vec{v[0] * k, v[1] * k, v[2] * k} }
func (v vec) dot(o vec) float64         { return v[0]*o[0] + v[1]*o[1] + v[2]*o[2] }
func (v vec) unit() vec                 { return v.scale(1 / math.Max(math.Sqrt(v.dot(v)), 1e-12)) }
func dist(a, b faceswap.Point3) float64 { d := sub(a, b); return math.Sqrt(d.dot(d)) }
func clamp(v float64) float64           { return math.Max(-1, math.Min(1, v)) }

func (v vec) cross(o vec) vec {
	return vec{v[1]*o[2] - v[2]*o[1], v[2]*o[0] - v[0]*o[2], v[0]*o[1] - v[1]*o[0]}
}
