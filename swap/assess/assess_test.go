package assess

import (
	"image"
	"math"
	"slices"
	"strings"
	"testing"

	"faceswap"
)

// head is a synthetic head in its own frame (x to the image's right, y
// down, z away from the camera; a face about 100 units wide), with the
// points Measure reads: the sides, the forehead and chin, the lips and
// the eyes. mouth and eye are the openings (as shares of their widths).
func head(mouth, eye float64) map[int]vec {
	h := map[int]vec{
		234: {-50, 0, 20}, 454: {50, 0, 20},
		93: {-48, 15, 20}, 323: {48, 15, 20},
		132: {-42, 30, 15}, 361: {42, 30, 15},
		forehead: {0, -60, 5}, chin: {0, 60, 5},
		mouthL: {-20, 38, 0}, mouthR: {20, 38, 0},
		upperLip: {0, 38 - 20*mouth, -5}, lowerLip: {0, 38 + 20*mouth, -5},
	}
	for _, e := range []struct {
		pts [4]int
		cx  float64
	}{{eyes[0], -25}, {eyes[1], 25}} {
		top, bottom, outer, inner := e.pts[0], e.pts[1], e.pts[2], e.pts[3]
		sgn := math.Copysign(1, e.cx)
		h[outer] = vec{e.cx + sgn*10, -5, 0}
		h[inner] = vec{e.cx - sgn*10, -5, 0}
		h[top] = vec{e.cx, -5 - 10*eye, -2}
		h[bottom] = vec{e.cx, -5 + 10*eye, -2}
	}
	return h
}

func rotX(a float64) [3]vec {
	c, s := math.Cos(a), math.Sin(a)
	return [3]vec{{1, 0, 0}, {0, c, -s}, {0, s, c}}
}
func rotY(a float64) [3]vec {
	c, s := math.Cos(a), math.Sin(a)
	return [3]vec{{c, 0, s}, {0, 1, 0}, {-s, 0, c}}
}
func rotZ(a float64) [3]vec {
	c, s := math.Cos(a), math.Sin(a)
	return [3]vec{{c, -s, 0}, {s, c, 0}, {0, 0, 1}}
}
func apply(m [3]vec, v vec) vec { return vec{m[0].dot(v), m[1].dot(v), m[2].dot(v)} }

// face places a synthetic head in an image: turned by yaw (to the
// image's right), tilted by pitch (down) and leaning by roll, scaled by
// scale around (cx, cy). The head leans back by pitchNeutral at rest, as
// a real mesh does, so pose reads pitch itself.
func face(yaw, pitch, roll, scale, cx, cy, mouth, eye float64) faceswap.Face {
	r := math.Pi / 180
	mesh := make([]faceswap.Point3, faceswap.MeshPoints)
	for i, p := range head(mouth, eye) {
		q := apply(rotZ(roll*r), apply(rotY(-yaw*r), apply(rotX((pitch+pitchNeutral)*r), p)))
		mesh[i] = faceswap.Point3{X: cx + scale*q[0], Y: cy + scale*q[1], Z: scale * q[2]}
	}
	x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, p := range head(mouth, eye) {
		x0, x1 = math.Min(x0, p[0]), math.Max(x1, p[0])
		y0, y1 = math.Min(y0, p[1]), math.Max(y1, p[1])
	}
	box := faceswap.Rect{X: cx + scale*x0, Y: cy + scale*y0, W: scale * (x1 - x0), H: scale * (y1 - y0)}
	return faceswap.Face{Box: box, Mesh: mesh, MeshScore: 1}
}

// TestMeasureSynthetic: the pose of a head turned, tilted and leaning by
// known angles reads back those angles, whatever the other two are; its
// width does not shrink as it turns; the openings read what was built.
func TestMeasureSynthetic(t *testing.T) {
	frame := image.Rect(0, 0, 1000, 1000)
	for _, c := range []struct{ yaw, pitch, roll float64 }{
		{0, 0, 0}, {30, 0, 0}, {-55, 0, 0}, {0, 25, 0}, {0, -30, 0}, {0, 0, 40},
		{45, 20, 0}, {-40, -25, 15}, {35, 30, -30}, {70, 10, 5},
	} {
		f := face(c.yaw, c.pitch, c.roll, 2, 500, 500, 0.1, 0.3)
		m := Measure(f, frame)
		if math.Abs(m.Yaw-c.yaw) > 0.01 || math.Abs(m.Pitch-c.pitch) > 0.01 || math.Abs(m.Roll-c.roll) > 0.01 {
			t.Errorf("head at yaw %g pitch %g roll %g reads yaw %.2f pitch %.2f roll %.2f", c.yaw, c.pitch, c.roll, m.Yaw, m.Pitch, m.Roll)
		}
		if math.Abs(m.Width-200) > 0.01 {
			t.Errorf("head at yaw %g: width %.2f, want 200 (cheek to cheek, whatever the pose)", c.yaw, m.Width)
		}
		if math.Abs(m.MouthOpen-0.1) > 1e-9 || math.Abs(m.EyeOpen-0.3) > 1e-9 {
			t.Errorf("head at yaw %g: mouth %.3f eyes %.3f, want 0.1 and 0.3", c.yaw, m.MouthOpen, m.EyeOpen)
		}
		if m.Presence != 1 || m.Outside != 0 {
			t.Errorf("head at yaw %g: presence %g outside %g", c.yaw, m.Presence, m.Outside)
		}
	}
	// A face half off the left edge: half its box is outside; no frame, nothing.
	f := face(0, 0, 0, 2, 0, 500, 0.1, 0.3)
	if m := Measure(f, frame); math.Abs(m.Outside-0.5) > 1e-9 {
		t.Errorf("face centred on the left edge: %.3f outside, want 0.5", m.Outside)
	}
	if m := Measure(f, image.Rectangle{}); m.Outside != 0 {
		t.Errorf("no frame: %.3f outside, want 0", m.Outside)
	}
	if m := Measure(face(0, 0, 0, 2, -1000, 500, 0.1, 0.3), frame); m.Outside != 1 {
		t.Errorf("a face beside the image: %.3f outside, want 1", m.Outside)
	}
	// No mesh: nothing measured but what the face says; no concern.
	bare := faceswap.Face{Box: faceswap.Rect{X: 10, Y: 10, W: 50, H: 50}, MeshScore: 0.5}
	if m := Measure(bare, frame); m != (Measures{Presence: 0.5}) {
		t.Errorf("a face without a mesh measures %+v", m)
	}
	if e := Pair(bare, f, image.NewNRGBA(frame), nil); e.Poor() || e.Score != 1 {
		t.Errorf("a pair without a mesh: %+v", e)
	}
}

// frontal is an ordinary face's measures: looking at the camera, 150 px
// wide, mouth closed, eyes open, all of it in its picture.
var frontal = Measures{Width: 150, MouthOpen: 0.04, EyeOpen: 0.32, Presence: 1}

func with(m Measures, change func(*Measures)) Measures {
	change(&m)
	return m
}

// TestJudge: each reason applies beyond its threshold and not before it,
// says the measured numbers, and the score is under 0.5 exactly when one
// applies.
func TestJudge(t *testing.T) {
	for _, c := range []struct {
		name    string
		s, t    Measures
		reasons []Reason
		detail  string // in the joined details
	}{
		{"the same face", frontal, frontal, nil, ""},
		{"turned 37° apart", frontal, with(frontal, func(m *Measures) { m.Yaw = 37 }), nil, ""},
		{"turned 45° apart", with(frontal, func(m *Measures) { m.Yaw = -1.2 }), with(frontal, func(m *Measures) { m.Yaw = 43.7 }),
			[]Reason{PoseGap}, "turned 45° apart left-right (yaw -1° and 44°)"},
		{"tilted 45° apart", with(frontal, func(m *Measures) { m.Pitch = -8 }), with(frontal, func(m *Measures) { m.Pitch = 37 }),
			[]Reason{PoseGap}, "tilted 45° apart up-down (pitch -8° and 37°)"},
		{"turned and tilted apart", with(frontal, func(m *Measures) { m.Yaw, m.Pitch = -20, -20 }), with(frontal, func(m *Measures) { m.Yaw, m.Pitch = 20, 20 }),
			[]Reason{PoseGap}, "turned 40° apart left-right (yaw -20° and 20°) and tilted 40° apart up-down"},
		{"leaning 60° apart", frontal, with(frontal, func(m *Measures) { m.Roll = 60 }), nil, ""},
		{"a 29-px face into a 345-px one", with(frontal, func(m *Measures) { m.Width = 29 }), with(frontal, func(m *Measures) { m.Width = 345 }),
			[]Reason{SourceResolution}, "source face 29 px wide for a 345-px target face"},
		{"a 92-px face into a 331-px one", with(frontal, func(m *Measures) { m.Width = 92 }), with(frontal, func(m *Measures) { m.Width = 331 }), nil, ""},
		{"a 20-px face into a 110-px one", with(frontal, func(m *Measures) { m.Width = 20 }), with(frontal, func(m *Measures) { m.Width = 110 }), nil, ""},
		{"a large face into a small one", with(frontal, func(m *Measures) { m.Width = 400 }), with(frontal, func(m *Measures) { m.Width = 30 }), nil, ""},
		{"an out-of-focus face into a small sharp one", with(frontal, func(m *Measures) { m.Width, m.Edge = 151, 12.5 }), with(frontal, func(m *Measures) { m.Width, m.Edge = 48, 1.5 }),
			[]Reason{SourceResolution}, "source face soft: its sharpest edges are 12.5 px wide across its 151 px and land 2.6× as wide as the target face's own"},
		{"a blurred face into a sharp one", with(frontal, func(m *Measures) { m.Width, m.Edge = 345, 11.8 }), with(frontal, func(m *Measures) { m.Width, m.Edge = 477, 1.53 }),
			[]Reason{SourceResolution}, "land 10.7× as wide"},
		{"a soft face into a sharp one", with(frontal, func(m *Measures) { m.Width, m.Edge = 331, 3.4 }), with(frontal, func(m *Measures) { m.Width, m.Edge = 477, 1.53 }), nil, ""},
		{"a crowd face into one of its size", with(frontal, func(m *Measures) { m.Width, m.Edge = 27, 1.5 }), with(frontal, func(m *Measures) { m.Width, m.Edge = 48, 1.5 }), nil, ""},
		{"an out-of-focus face into an out-of-focus one", with(frontal, func(m *Measures) { m.Width, m.Edge = 151, 12.5 }), with(frontal, func(m *Measures) { m.Width, m.Edge = 160, 12 }), nil, ""},
		{"an out-of-focus face, the target's edges unknown", with(frontal, func(m *Measures) { m.Width, m.Edge = 151, 12.5 }), with(frontal, func(m *Measures) { m.Width = 48 }), nil, ""},
		{"a small sharp face into a large one says its size", with(frontal, func(m *Measures) { m.Width, m.Edge = 29, 1.44 }), with(frontal, func(m *Measures) { m.Width, m.Edge = 345, 1.47 }),
			[]Reason{SourceResolution}, "source face 29 px wide for a 345-px target face"},
		{"a source the mesh doubts", with(frontal, func(m *Measures) { m.Presence = 0.834 }), frontal,
			[]Reason{Occlusion}, "the source face may be partly hidden (face-presence score 0.83)"},
		{"a target the mesh doubts", frontal, with(frontal, func(m *Measures) { m.Presence = 0.951 }),
			[]Reason{Occlusion}, "the target face may be partly hidden (face-presence score 0.95)"},
		{"a target the mesh is sure of", frontal, with(frontal, func(m *Measures) { m.Presence = 0.98 }), nil, ""},
		{"a source cut by its frame", with(frontal, func(m *Measures) { m.Outside = 0.41 }), frontal,
			[]Reason{Occlusion}, "41% of the source face is outside its image"},
		{"a source barely cut", with(frontal, func(m *Measures) { m.Outside = 0.1 }), frontal, nil, ""},
		{"a target cut by its frame", frontal, with(frontal, func(m *Measures) { m.Outside = 0.6 }), nil, ""},
		{"a closed mouth into a laughing one", frontal, with(frontal, func(m *Measures) { m.MouthOpen = 0.30 }),
			[]Reason{ExpressionGap}, "the target's mouth is open by 0.30 of its width and the source's by only 0.04"},
		{"a closed mouth into a smile", frontal, with(frontal, func(m *Measures) { m.MouthOpen = 0.21 }), nil, ""},
		{"a laughing mouth into a closed one", with(frontal, func(m *Measures) { m.MouthOpen = 0.35 }), frontal, nil, ""},
		{"open eyes into shut ones", frontal, with(frontal, func(m *Measures) { m.EyeOpen = 0.12 }),
			[]Reason{ExpressionGap}, "the source's eyes are 2.7× as open as the target's (0.32 and 0.12)"},
		{"shut eyes into open ones", with(frontal, func(m *Measures) { m.EyeOpen = 0.14 }), frontal,
			[]Reason{ExpressionGap}, "the target's eyes are 2.3× as open as the source's (0.32 and 0.14)"},
		{"a squint", frontal, with(frontal, func(m *Measures) { m.EyeOpen = 0.2 }), nil, ""},
		{"every reason", with(frontal, func(m *Measures) { m.Yaw, m.Width, m.Outside = -30, 40, 0.2 }),
			with(frontal, func(m *Measures) { m.Yaw, m.Width, m.MouthOpen = 30, 300, 0.4 }),
			AllReasons, "source face 40 px wide for a 300-px target face"},
	} {
		e := judge(c.s, c.t)
		got := e.Reasons()
		if strings.Join(reasonStrings(got), ",") != strings.Join(reasonStrings(c.reasons), ",") {
			t.Errorf("%s: reasons %v, want %v (%+v)", c.name, got, c.reasons, e.Concerns)
		}
		var details []string
		for _, k := range e.Concerns {
			details = append(details, k.Detail)
			if k.Detail == "" {
				t.Errorf("%s: %s without a detail", c.name, k.Reason)
			}
		}
		if c.detail != "" && !strings.Contains(strings.Join(details, "; "), c.detail) {
			t.Errorf("%s: details %q lack %q", c.name, details, c.detail)
		}
		if e.Poor() != (e.Score < 0.5) || e.Score < 0 || e.Score > 1 {
			t.Errorf("%s: score %.3f with poor %v", c.name, e.Score, e.Poor())
		}
	}
	if e := judge(frontal, frontal); e.Score != 1 {
		t.Errorf("the same face scores %g, want 1", e.Score)
	}
}

// TestScoreFalls: the score falls as a gap grows, and is 0.5 at the
// threshold.
func TestScoreFalls(t *testing.T) {
	prev := 2.0
	for gap := 0.0; gap <= 90; gap += 5 {
		e := judge(frontal, with(frontal, func(m *Measures) { m.Yaw = gap }))
		if e.Score > prev || (gap > 0 && e.Score == prev) {
			t.Errorf("yaw gap %g: score %.4f after %.4f", gap, e.Score, prev)
		}
		prev = e.Score
	}
	if e := judge(frontal, with(frontal, func(m *Measures) { m.Yaw = MaxPoseGap })); math.Abs(e.Score-0.5) > 1e-9 || e.Poor() {
		t.Errorf("at the threshold: score %.4f, poor %v", e.Score, e.Poor())
	}
}

func reasonStrings(rs []Reason) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return out
}

// TestFold: an engine's finding lowers the score and, beyond its
// threshold, joins the concern of its reason or makes one in the order of
// AllReasons, without changing the estimate it was folded into.
func TestFold(t *testing.T) {
	base := Estimate{Score: 0.3, Concerns: []Concern{
		{Reason: PoseGap, Detail: "turned"},
		{Reason: ExpressionGap, Detail: "mouth"},
	}}
	for _, c := range []struct {
		name  string
		e     Estimate
		f     Finding
		score float64
		want  []Concern
	}{
		{"below its threshold", Estimate{Score: 1}, Finding{Occlusion, 0.5, "x"}, score(0.5), nil},
		{"into a good pair", Estimate{Score: 1}, Finding{Occlusion, 2, "glasses"}, score(2),
			[]Concern{{Occlusion, "glasses"}}},
		{"between two reasons", base, Finding{Occlusion, 2, "glasses"}, score(2),
			[]Concern{{PoseGap, "turned"}, {Occlusion, "glasses"}, {ExpressionGap, "mouth"}}},
		{"after the others", base, Finding{ExpressionGap, 3, "glasses"}, score(3),
			[]Concern{{PoseGap, "turned"}, {ExpressionGap, "mouth; glasses"}}},
		{"first", Estimate{Score: 0.2, Concerns: []Concern{{Occlusion, "hidden"}}}, Finding{PoseGap, 1.2, "turned"}, 0.2,
			[]Concern{{PoseGap, "turned"}, {Occlusion, "hidden"}}},
		{"joins its reason", Estimate{Score: 0.2, Concerns: []Concern{{Occlusion, "hidden"}}}, Finding{Occlusion, 1.2, "glasses"}, 0.2,
			[]Concern{{Occlusion, "hidden; glasses"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := slices.Clone(c.e.Concerns)
			e := c.e
			e.Fold(c.f)
			if math.Abs(e.Score-c.score) > 1e-12 {
				t.Errorf("score %.4f, want %.4f", e.Score, c.score)
			}
			if !slices.Equal(e.Concerns, c.want) {
				t.Errorf("concerns %+v, want %+v", e.Concerns, c.want)
			}
			if !slices.Equal(c.e.Concerns, before) {
				t.Errorf("the estimate folded into changed: %+v, was %+v", c.e.Concerns, before)
			}
			if e.Poor() != (len(c.want) > 0) {
				t.Errorf("poor: %v with concerns %+v", e.Poor(), e.Concerns)
			}
		})
	}
}
