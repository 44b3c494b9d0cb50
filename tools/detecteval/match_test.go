package main

import (
	"math"
	"slices"
	"testing"

	"faceswap"
)

func TestIoU(t *testing.T) {
	a := Box{0, 0, 10, 10}
	for _, c := range []struct {
		name string
		b    Box
		want float64
	}{
		{"same box", Box{0, 0, 10, 10}, 1},
		{"half across", Box{5, 0, 10, 10}, 50.0 / 150},
		{"inside", Box{2, 2, 5, 4}, 20.0 / 100},
		{"touching edges", Box{10, 0, 10, 10}, 0},
		{"apart", Box{30, 30, 5, 5}, 0},
		{"empty", Box{2, 2, 0, 0}, 0},
	} {
		if got := IoU(a, c.b); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s: IoU(%v, %v) = %v, want %v", c.name, a, c.b, got, c.want)
		}
		if got := IoU(c.b, a); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s: IoU is not symmetric: %v", c.name, got)
		}
	}
}

func TestClip(t *testing.T) {
	// A face cut by the top edge (the manifest has y = -7).
	if got, want := (Box{972, -7, 95, 74}).Clip(1280, 853), (Box{972, 0, 95, 67}); got != want {
		t.Errorf("top edge: %v, want %v", got, want)
	}
	if got, want := (Box{-5, 10, 20, 20}).Clip(100, 25), (Box{0, 10, 15, 15}); got != want {
		t.Errorf("left and bottom edges: %v, want %v", got, want)
	}
	if got := (Box{200, 200, 10, 10}).Clip(100, 100); faceswap.Rect(got).Area() != 0 {
		t.Errorf("outside the picture: %v, want an empty box", got)
	}
}

func refs(boxes ...Box) []Ref {
	out := make([]Ref, len(boxes))
	for i, b := range boxes {
		out[i] = Ref{b}
	}
	return out
}

func TestMatch(t *testing.T) {
	type want struct {
		pairs          [][2]int
		misses, extras []int
	}
	for _, c := range []struct {
		name string
		refs []Ref
		dets []Box
		want want
	}{
		{"nothing", nil, nil, want{}},
		{"no face found", refs(Box{0, 0, 10, 10}), nil, want{misses: []int{0}}},
		{"a face where there is none", nil, []Box{{0, 0, 10, 10}}, want{extras: []int{0}}},
		{
			// Out of order: each box goes to the face it overlaps.
			"two faces, two boxes", refs(Box{0, 0, 10, 10}, Box{100, 0, 10, 10}),
			[]Box{{101, 1, 10, 10}, {1, 0, 10, 10}},
			want{pairs: [][2]int{{0, 1}, {1, 0}}},
		},
		{
			// IoU 0.4 exactly is a match; 0.39 is not.
			"threshold", refs(Box{0, 0, 10, 10}, Box{100, 0, 10, 10}),
			[]Box{{0, 0, 4, 10}, {100, 0, 3.9, 10}},
			want{pairs: [][2]int{{0, 0}}, misses: []int{1}, extras: []int{1}},
		},
		{
			// One to one: two boxes on one face, the better one matches and
			// the other is an extra (a duplicate).
			"duplicate box", refs(Box{0, 0, 10, 10}),
			[]Box{{1, 1, 10, 10}, {0, 0, 10, 10}},
			want{pairs: [][2]int{{0, 1}}, extras: []int{0}},
		},
		{
			// Greedy by IoU over every pair, not face by face: face 0's best
			// box (0.6) is face 1's far better one (0.9), so face 1 takes
			// it and face 0 gets its second choice (0.5).
			"greedy by IoU", refs(Box{0, 0, 10, 10}, Box{3, 0, 10, 10}),
			[]Box{{2.5, 0, 10, 10}, {-10.0 / 3, 0, 10, 10}},
			want{pairs: [][2]int{{1, 0}, {0, 1}}},
		},
	} {
		pairs, misses, extras := Match(c.refs, c.dets, 0.4)
		var got [][2]int
		for _, p := range pairs {
			got = append(got, [2]int{p.Ref, p.Det})
		}
		if !slices.Equal(got, c.want.pairs) || !slices.Equal(misses, c.want.misses) || !slices.Equal(extras, c.want.extras) {
			t.Errorf("%s: pairs %v, misses %v, extras %v; want %v, %v, %v", c.name, got, misses, extras, c.want.pairs, c.want.misses, c.want.extras)
		}
	}
}

// TestMatchAlternatives: a face with two reference boxes (yunet's and
// scrfd's) matches a box that overlaps either well enough, at the better
// IoU.
func TestMatchAlternatives(t *testing.T) {
	face := Ref{{0, 0, 10, 10}, {0, 5, 10, 10}}
	pairs, misses, extras := Match([]Ref{face}, []Box{{0, 6, 10, 10}}, 0.4)
	if len(pairs) != 1 || len(misses) != 0 || len(extras) != 0 {
		t.Fatalf("pairs %v, misses %v, extras %v: want the box matched by the second reference box", pairs, misses, extras)
	}
	if want := 90.0 / 110; math.Abs(pairs[0].IoU-want) > 1e-12 {
		t.Errorf("IoU %v, want the better one, %v", pairs[0].IoU, want)
	}
}
