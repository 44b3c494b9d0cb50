package assess

import (
	"image"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"faceswap"
	"faceswap/analysis"
	"faceswap/internal/testenv"
)

// The estimates on real photos, analysed by the real models: what the
// thresholds were measured on (see the constants).

var (
	anOnce sync.Once
	an     *analysis.Analyzer
)

func analyzer(t testing.TB) *analysis.Analyzer {
	t.Helper()
	rt := testenv.Runtime(t)
	p := testenv.Models(t, "onnx/blazeface-back.onnx", "onnx/facemesh.onnx")
	anOnce.Do(func() {
		var err error
		if an, err = analysis.New(rt, analysis.Models{Detector: p.ONNX("blazeface-back"), Mesh: p.ONNX("facemesh")}, analysis.Config{}); err != nil {
			t.Fatal(err)
		}
	})
	if an == nil {
		t.Fatal("analyzer did not load")
	}
	return an
}

// picture is a decoded photo with its faces ordered left to right.
type picture struct {
	img   *image.NRGBA
	faces []faceswap.Face
}

func analyse(t testing.TB, img *image.NRGBA) picture {
	t.Helper()
	faces, err := analyzer(t).Analyze(img, analysis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sort.SliceStable(faces, func(i, j int) bool { return faces[i].Box.X < faces[j].Box.X })
	return picture{img, faces}
}

// Photos by name: a derived photo every machine has (testenv.Group5 …),
// "demoN" for face-api's demo photo N, or a path under the shared test
// data ("images/…", "hard/…"), which skips without it.
func load(t testing.TB, name string) picture {
	t.Helper()
	var path string
	switch {
	case strings.HasPrefix(name, "demo"):
		path = testenv.Demo(t, int(name[4]-'0'))
	case strings.Contains(name, "/"):
		path = filepath.Join(testenv.TestdataDir(t), name)
	default:
		path = testenv.Photo(t, name)
	}
	return analyse(t, testenv.Load(t, path))
}

// largest returns the index of the widest face.
func (p picture) largest() int {
	best := 0
	for i, f := range p.faces {
		if f.Box.Area() > p.faces[best].Box.Area() {
			best = i
		}
	}
	return best
}

// TestPoseOnPhotos: frontal faces read near 0° of yaw, turned ones far
// from it, each to its side.
func TestPoseOnPhotos(t *testing.T) {
	type want struct {
		name     string
		face     int     // left to right; -1: the largest
		min, max float64 // yaw
	}
	check := func(cases []want) {
		for _, c := range cases {
			p := load(t, c.name)
			i := c.face
			if i < 0 {
				i = p.largest()
			}
			if i >= len(p.faces) {
				t.Fatalf("%s: %d faces, want face %d", c.name, len(p.faces), i)
			}
			m := Measure(p.faces[i], p.img.Rect)
			if m.Yaw < c.min || m.Yaw > c.max {
				t.Errorf("%s face %d: yaw %.1f°, want %g…%g (pitch %.1f°, roll %.1f°)", c.name, i, m.Yaw, c.min, c.max, m.Pitch, m.Roll)
			}
		}
	}
	// Every machine: a woman looking at the camera, one turned to the
	// image's right, one to its left (the office photo, left to right).
	check([]want{
		{testenv.Portrait, 0, -10, 10},
		{testenv.Group5, 0, -5, 5},
		{testenv.Group5, 1, 20, 40},
		{testenv.Group5, 4, -40, -20},
		{"demo2", 0, -60, -40},
	})
	// The shared photos: frontal portraits, a three-quarter view, a near
	// profile (the cameraman looks to the image's right), a head turned
	// down to the image's left.
	check([]want{
		{"images/portrait_man_frontal_luciano.png", -1, -10, 10},
		{"images/portrait_man_glasses_beard_santa.jpg", -1, -10, 10},
		{"images/portrait_woman_frontal_astronaut_collins.png", -1, -10, 10},
		{"images/portrait_woman_frontal_smiling.png", -1, -10, 10},
		{"images/portrait_man_frontal_tiny_115px.png", -1, -10, 10},
		{"hard/elderly_man_outdoor.jpg", -1, -10, 10},
		{"hard/three_quarter_view_man_beard.jpg", -1, 40, 60},
		{"images/portrait_man_profile_cameraman_gray.png", -1, 45, 70},
		{"hard/bw_dark_skin_young_man_cap_eyes_downcast.jpg", -1, -60, -40},
	})
}

// paint covers the share of face f's box from its bottom with a flat skin
// tone (a hand held in front of it).
func paint(img *image.NRGBA, f faceswap.Face, share float64) *image.NRGBA {
	out := image.NewNRGBA(img.Rect)
	copy(out.Pix, img.Pix)
	b := f.Box
	r := image.Rect(int(b.X)-10, int(b.Y+b.H*(1-share)), int(b.X+b.W)+10, int(b.Y+b.H)+10).Intersect(out.Rect)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			i := out.PixOffset(x, y)
			out.Pix[i], out.Pix[i+1], out.Pix[i+2] = 200, 150, 120
		}
	}
	return out
}

// crop is img from x0 on: a face near the left edge comes out cut.
func crop(img *image.NRGBA, x0 int) *image.NRGBA {
	r := image.Rect(x0, 0, img.Rect.Dx(), img.Rect.Dy())
	out := image.NewNRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	for y := 0; y < r.Dy(); y++ {
		copy(out.Pix[y*out.Stride:], img.Pix[img.PixOffset(x0, y):img.PixOffset(img.Rect.Dx(), y)])
	}
	return out
}

// TestPairsOnPhotos: real pairs get the reasons the measurements behind
// the thresholds give them, and good pairs none.
func TestPairsOnPhotos(t *testing.T) {
	type pair struct {
		name     string
		src, tgt picture
		si, ti   int // faces, left to right; -1: the largest
		reasons  []Reason
		detail   string
	}
	run := func(cases []pair) {
		for _, c := range cases {
			si, ti := c.si, c.ti
			if si < 0 {
				si = c.src.largest()
			}
			if ti < 0 {
				ti = c.tgt.largest()
			}
			if si >= len(c.src.faces) || ti >= len(c.tgt.faces) {
				t.Fatalf("%s: %d and %d faces", c.name, len(c.src.faces), len(c.tgt.faces))
			}
			e := Pair(c.src.faces[si], c.tgt.faces[ti], c.src.img, c.tgt.img)
			if got, want := strings.Join(reasonStrings(e.Reasons()), "+"), strings.Join(reasonStrings(c.reasons), "+"); got != want {
				t.Errorf("%s: reasons %q, want %q (score %.2f, %+v; source %+v, target %+v)", c.name, got, want, e.Score, e.Concerns, e.Source, e.Target)
			}
			var details []string
			for _, k := range e.Concerns {
				details = append(details, k.Detail)
			}
			if !strings.Contains(strings.Join(details, "; "), c.detail) {
				t.Errorf("%s: details %q lack %q", c.name, details, c.detail)
			}
			t.Logf("%s: score %.2f %v", c.name, e.Score, details)
		}
	}

	// Every machine.
	group5 := load(t, testenv.Group5)
	portrait2 := load(t, testenv.Portrait2)
	portrait := load(t, testenv.Portrait)
	hidden := analyse(t, paint(portrait2.img, portrait2.faces[0], 0.5))
	demo5 := load(t, "demo5")
	// demo 5 from 30% into its largest face (the mesh draws the face
	// whole, its left part outside the picture)
	big := demo5.faces[demo5.largest()].Box
	cut := analyse(t, crop(demo5.img, int(big.X+0.3*big.W)))
	// the portrait out of focus
	blurred := analyse(t, testenv.Blur(portrait.img, 4))
	run([]pair{
		{"portrait into portrait2", portrait, portrait2, 0, 0, nil, ""},
		// the same photo: the woman turned left (mouth closed) into the
		// one turned right and laughing
		{"office photo, turned apart", group5, group5, 4, 1, []Reason{PoseGap, ExpressionGap}, "turned 54° apart left-right"},
		{"office photo, frontal into turned down", group5, group5, 0, 3, nil, ""},
		{"tiny into the largest of demo 5", load(t, testenv.Tiny), demo5, 0, -1, []Reason{SourceResolution},
			"source face 50 px wide for a 232-px target face"},
		{"tiny into portrait2", load(t, testenv.Tiny), portrait2, 0, 0, nil, ""},
		{"a woman turned 50° into one looking ahead", load(t, "demo2"), load(t, "demo6"), 0, 0, []Reason{PoseGap, Occlusion},
			"the source face may be partly hidden (face-presence score 0.83)"},
		{"into a face half covered", portrait, hidden, 0, 0, []Reason{Occlusion}, "the target face may be partly hidden"},
		{"a face cut by the frame", cut, portrait2, 0, 0, []Reason{Occlusion}, "28% of the source face is outside its image"},
		{"a face cut by the frame, as the target", portrait2, cut, 0, 0, nil, ""},
		{"an out-of-focus face into a sharp one", blurred, portrait2, 0, 0, []Reason{SourceResolution}, "source face soft: its sharpest edges are "},
		{"a sharp face into an out-of-focus one", portrait2, blurred, 0, 0, nil, ""},
	})

	// The shared photos (the pairs of tools/quality/pairs.json).
	smiling := load(t, "images/portrait_woman_frontal_smiling.png")
	luciano := load(t, "images/portrait_man_frontal_luciano.png")
	apollo := load(t, "images/group3_apollo11_crew.jpg")
	run([]pair{
		{"smiling woman into the cameraman", smiling, load(t, "images/portrait_man_profile_cameraman_gray.png"), -1, -1, []Reason{PoseGap}, "turned 59° apart"},
		{"three-quarter view into a frontal face", load(t, "hard/three_quarter_view_man_beard.jpg"), luciano, -1, -1, []Reason{PoseGap}, "turned 46° apart"},
		{"downcast B&W man into a frontal face", load(t, "hard/bw_dark_skin_young_man_cap_eyes_downcast.jpg"), luciano, -1, -1, []Reason{PoseGap}, "turned 48° apart"},
		{"Santa into the office man looking down", load(t, "images/portrait_man_glasses_beard_santa.jpg"), load(t, "images/group5_office_meeting.jpg"), -1, 2,
			[]Reason{PoseGap}, "tilted 49° apart up-down"},
		{"115-px man into the smiling woman", load(t, "images/portrait_man_frontal_tiny_115px.png"), smiling, -1, -1, []Reason{SourceResolution},
			"source face 36 px wide for a 331-px target face"},
		{"crowd face into a large one", load(t, "images/group8_nasa_astronaut_class_2013.png"), load(t, "hard/windblown_hair_woman_smile_teeth.jpg"), 0, -1,
			[]Reason{SourceResolution}, "px wide for a 345-px target face"},
		{"Collins into the smiling woman", load(t, "images/portrait_woman_frontal_astronaut_collins.png"), smiling, -1, -1, nil, ""},
		{"the phones photo's out-of-focus woman into an Apollo face", load(t, "hard/group2_women_phones_smile_teeth_occlusion.jpg"), apollo, 0, 0,
			[]Reason{SourceResolution}, "source face soft: its sharpest edges are 12."},
		{"a crowd face into an Apollo face", load(t, "images/group8_nasa_astronaut_class_2013.png"), apollo, 0, 0, nil, ""},
		{"the smiling woman into the sharp elderly man", smiling, load(t, "hard/elderly_man_outdoor.jpg"), -1, -1, nil, ""},
		{"Luciano into a laughing tilted head", luciano, load(t, "demo1"), -1, 2, []Reason{ExpressionGap}, "the target's mouth is open by 0.30"},
		{"a laughing source into a closed mouth", load(t, "hard/windblown_hair_woman_smile_teeth.jpg"), luciano, -1, -1, nil, ""},
	})
}

// TestPitchNeutral: the frontal portraits' pitch, which pitchNeutral
// centres: their median is within a few degrees of 0.
func TestPitchNeutral(t *testing.T) {
	var pitches []float64
	for _, name := range []string{
		"images/portrait_man_frontal_luciano.png", "images/portrait_man_glasses_beard_santa.jpg",
		"images/portrait_woman_frontal_astronaut_collins.png", "images/portrait_woman_frontal_smiling.png",
		"images/portrait_man_frontal_tiny_115px.png", "hard/dim_warm_indoor_light_woman.jpg", "hard/elderly_man_outdoor.jpg",
	} {
		p := load(t, name)
		pitches = append(pitches, Measure(p.faces[p.largest()], p.img.Rect).Pitch)
	}
	crew := load(t, "images/group8_nasa_astronaut_class_2013.png")
	for _, f := range crew.faces {
		pitches = append(pitches, Measure(f, crew.img.Rect).Pitch)
	}
	sort.Float64s(pitches)
	if med := pitches[len(pitches)/2]; math.Abs(med) > 3 {
		t.Errorf("median pitch of %d frontal faces %.1f°, want about 0: %.1f", len(pitches), med, pitches)
	}
}
