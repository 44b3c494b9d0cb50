package selection

import (
	"errors"
	"reflect"
	"testing"

	"faceswap"
)

// four faces: a big woman on the right, a small man top-left, a medium man
// at the bottom, a medium woman in the middle with the same area as the man.
var faces = []faceswap.Face{
	{Box: faceswap.Rect{X: 300, Y: 100, W: 100, H: 100}, Score: 0.9, Gender: faceswap.Female},
	{Box: faceswap.Rect{X: 10, Y: 10, W: 20, H: 20}, Score: 0.8, Gender: faceswap.Male},
	{Box: faceswap.Rect{X: 150, Y: 300, W: 50, H: 50}, Score: 0.7, Gender: faceswap.Male},
	{Box: faceswap.Rect{X: 200, Y: 150, W: 50, H: 50}, Score: 0.95, Gender: faceswap.Female},
}

func xs(fs []faceswap.Face) []float64 {
	var out []float64
	for _, f := range fs {
		out = append(out, f.Box.X)
	}
	return out
}

func TestSortEveryOrder(t *testing.T) {
	for _, tc := range []struct {
		order Order
		want  []float64
	}{
		{LargeSmall, []float64{300, 200, 150, 10}}, // equal areas: higher score first
		{SmallLarge, []float64{10, 200, 150, 300}},
		{TopBottom, []float64{10, 300, 200, 150}},
		{BottomTop, []float64{150, 200, 300, 10}},
		{LeftRight, []float64{10, 150, 200, 300}},
		{RightLeft, []float64{300, 200, 150, 10}},
	} {
		if got := xs(Sort(faces, tc.order)); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.order, got, tc.want)
		}
	}
}

func TestParseOrderCaseInsensitive(t *testing.T) {
	for in, want := range map[string]Order{"": LargeSmall, "LEFT-RIGHT": LeftRight, "Small-Large": SmallLarge, "top-bottom": TopBottom} {
		got, err := ParseOrder(in)
		if err != nil || got != want {
			t.Errorf("ParseOrder(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	_, err := ParseOrder("diagonal")
	wantErr(t, err, 400, `detection_face_order "diagonal" is not one of large-small, small-large, top-bottom, bottom-top, left-right, right-left.`)
}

func TestGenderFilter(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []float64
	}{
		{"no", []float64{300, 10, 150, 200}},
		{"", []float64{300, 10, 150, 200}},
		{"Female", []float64{300, 200}},
		{"MALE", []float64{10, 150}},
	} {
		g, err := ParseGender("detect_gender_input", tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := xs(Filter(faces, g)); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: got %v, want %v", tc.in, got, tc.want)
		}
	}
	_, err := ParseGender("detect_gender_source", "other")
	wantErr(t, err, 400, `detect_gender_source "other" is not one of no, female, male.`)
	// unknown gender never matches a gender filter
	if got := Filter([]faceswap.Face{{}}, OnlyFemale); len(got) != 0 {
		t.Errorf("unknown gender passed the female filter")
	}
}

func TestParseIndices(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []int
		err  bool
	}{
		{"", []int{0}, false},
		{"0", []int{0}, false},
		{"0,1,2", []int{0, 1, 2}, false},
		{" 2 , 0 ", []int{2, 0}, false},
		{"-1", nil, true},
		{"1,,2", nil, true},
		{"a", nil, true},
		{"1.5", nil, true},
		{"+1", nil, true},
		{"99999", nil, true},
	} {
		got, err := ParseIndices("input_faces_index", tc.in)
		if tc.err {
			if faceswap.StatusOf(err) != 400 {
				t.Errorf("%q: got %v, %v; want a 400", tc.in, got, err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: got %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	_, err := ParseIndices("source_faces_index", "x")
	wantErr(t, err, 400, `source_faces_index "x" must be a comma-separated list of non-negative integers such as "0,1,2".`)
}

func TestPairs(t *testing.T) {
	src := faces[:2]
	// one source index goes into every target index
	p, err := Pairs(src, faces, Request{SourceIndices: []int{1}, TargetIndices: []int{0, 2}, Order: LeftRight})
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != 2 || p[0].Source.Box.X != 300 || p[1].Source.Box.X != 300 || p[0].Target.Box.X != 10 || p[1].Target.Box.X != 200 {
		t.Errorf("one-to-many pairing wrong: %+v", p)
	}
	// as many sources as targets pair by position
	p, err = Pairs(faces, faces, Request{SourceIndices: []int{0, 1}, TargetIndices: []int{1, 0}, Order: LargeSmall})
	if err != nil {
		t.Fatal(err)
	}
	if p[0].Source.Box.X != 300 || p[0].Target.Box.X != 200 || p[1].Source.Box.X != 200 || p[1].Target.Box.X != 300 {
		t.Errorf("positional pairing wrong: %+v", p)
	}
	// defaults: index 0 in both
	p, err = Pairs(faces, faces, Request{})
	if err != nil || len(p) != 1 || p[0].Target.Box.X != 300 {
		t.Errorf("default pairing: %+v %v", p, err)
	}
	// gender filters apply before numbering
	p, err = Pairs(faces, faces, Request{SourceGender: OnlyMale, TargetGender: OnlyFemale, TargetIndices: []int{1}, Order: LeftRight})
	if err != nil || p[0].Source.Box.X != 10 || p[0].Target.Box.X != 300 {
		t.Errorf("gender pairing: %+v %v", p, err)
	}
}

func TestPairErrors(t *testing.T) {
	_, err := Pairs(faces, faces, Request{SourceIndices: []int{0, 1}, TargetIndices: []int{0, 1, 2}})
	wantErr(t, err, 400, "source_faces_index has 2 indices and input_faces_index has 3; give one source index, or as many as target indices.")
	_, err = Pairs(faces, faces, Request{TargetIndices: []int{3}, TargetGender: OnlyFemale})
	wantErr(t, err, 422, `input_faces_index 3 is out of range: target_img has 2 faces (0-1) after gender filter "female".`)
	_, err = Pairs(faces, faces, Request{TargetIndices: []int{4}})
	wantErr(t, err, 422, `input_faces_index 4 is out of range: target_img has 4 faces (0-3).`)
	_, err = Pairs(faces[:1], faces, Request{SourceIndices: []int{1}})
	wantErr(t, err, 422, `source_faces_index 1 is out of range: source_img has 1 face (0-0).`)
	_, err = Pairs(nil, faces, Request{})
	wantErr(t, err, 422, "No face was found in source_img.")
	_, err = Pairs(faces, nil, Request{})
	wantErr(t, err, 422, "No face was found in target_img.")
	_, err = Pairs(faces, faces[1:3], Request{TargetGender: OnlyFemale})
	wantErr(t, err, 422, `target_img has no faces after gender filter "female" (2 found before filtering).`)
}

func wantErr(t *testing.T, err error, status int, msg string) {
	t.Helper()
	var e *faceswap.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want a *faceswap.Error %d %q", err, status, msg)
	}
	if e.Status != status || e.Message != msg {
		t.Errorf("got %d %q, want %d %q", e.Status, e.Message, status, msg)
	}
}
