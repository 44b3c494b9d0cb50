// Package selection applies the API's face-selection rules (SPEC §2) to
// analysed faces: drop faces of the other gender, number the rest by the
// requested order, parse the index lists, and pair source faces with target
// faces. Every error is a *faceswap.Error with the status the API answers.
package selection

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"faceswap"
)

// Order is how detected faces are numbered.
type Order string

// The orders of detection_face_order.
const (
	LargeSmall Order = "large-small"
	SmallLarge Order = "small-large"
	TopBottom  Order = "top-bottom"
	BottomTop  Order = "bottom-top"
	LeftRight  Order = "left-right"
	RightLeft  Order = "right-left"
)

// Orders lists every Order; the first is the default.
var Orders = []Order{LargeSmall, SmallLarge, TopBottom, BottomTop, LeftRight, RightLeft}

// ParseOrder parses an order case-insensitively; "" is the default.
func ParseOrder(s string) (Order, error) { return ParseOrderField("detection_face_order", s) }

// ParseOrderField is ParseOrder naming field in the error.
func ParseOrderField(field, s string) (Order, error) {
	if s == "" {
		return LargeSmall, nil
	}
	for _, o := range Orders {
		if strings.EqualFold(s, string(o)) {
			return o, nil
		}
	}
	return "", faceswap.Errorf(http.StatusBadRequest, "%s %q is not one of %s.", field, s, joinOrders())
}

func joinOrders() string {
	var s []string
	for _, o := range Orders {
		s = append(s, string(o))
	}
	return strings.Join(s, ", ")
}

// GenderFilter keeps faces of one gender, or all.
type GenderFilter string

// The values of detect_gender_input and detect_gender_source.
const (
	AnyGender  GenderFilter = "no"
	OnlyFemale GenderFilter = "female"
	OnlyMale   GenderFilter = "male"
)

// ParseGender parses a gender filter case-insensitively; "" means "no".
// field names the request field in the error.
func ParseGender(field, s string) (GenderFilter, error) {
	switch strings.ToLower(s) {
	case "", "no":
		return AnyGender, nil
	case "female":
		return OnlyFemale, nil
	case "male":
		return OnlyMale, nil
	}
	return "", faceswap.Errorf(http.StatusBadRequest, "%s %q is not one of no, female, male.", field, s)
}

// Filter returns the faces of the filter's gender (all for AnyGender),
// keeping their order. Faces whose gender is unknown never match a gender.
func Filter(faces []faceswap.Face, g GenderFilter) []faceswap.Face {
	if g == AnyGender || g == "" {
		return faces
	}
	var out []faceswap.Face
	for _, f := range faces {
		if string(f.Gender) == string(g) {
			out = append(out, f)
		}
	}
	return out
}

// Sort numbers faces by order: area for large/small, left edge for
// left/right, top edge for top/bottom. Ties keep detector score order.
func Sort(faces []faceswap.Face, o Order) []faceswap.Face {
	out := append([]faceswap.Face(nil), faces...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Score > out[j].Score })
	key := func(f faceswap.Face) float64 {
		switch o {
		case SmallLarge:
			return f.Box.Area()
		case TopBottom:
			return f.Box.Y
		case BottomTop:
			return -f.Box.Y
		case LeftRight:
			return f.Box.X
		case RightLeft:
			return -f.Box.X
		}
		return -f.Box.Area() // LargeSmall
	}
	sort.SliceStable(out, func(i, j int) bool { return key(out[i]) < key(out[j]) })
	return out
}

// Select applies the gender filter, then the order.
func Select(faces []faceswap.Face, g GenderFilter, o Order) []faceswap.Face {
	return Sort(Filter(faces, g), o)
}

// ParseIndices parses a comma list of non-negative integers such as "0,1,2";
// "" is "0". field names the request field in the error.
func ParseIndices(field, s string) ([]int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return []int{0}, nil
	}
	parts := strings.Split(s, ",")
	if len(parts) > 64 {
		return nil, faceswap.Errorf(http.StatusBadRequest, "%s lists %d indices; at most 64 are allowed.", field, len(parts))
	}
	out := make([]int, 0, len(parts))
	for _, p := range parts {
		p = strings.TrimSpace(p)
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 9999 || strings.HasPrefix(p, "+") {
			return nil, faceswap.Errorf(http.StatusBadRequest, "%s %q must be a comma-separated list of non-negative integers such as \"0,1,2\".", field, s)
		}
		out = append(out, n)
	}
	return out, nil
}

// Pair is one swap: the source face that goes into a target face.
type Pair struct {
	Source, Target faceswap.Face
	SourceIndex    int
	TargetIndex    int
}

// Request is what pairing needs from an API request.
type Request struct {
	SourceIndices, TargetIndices []int
	SourceGender, TargetGender   GenderFilter
	Order                        Order
}

// Pairs selects and pairs faces by the rules of SPEC §2: with one source
// index that face goes into every listed target face; with as many source
// indices as target indices they pair by position; any other count is a
// 400. An index beyond the faces found, or no face at all, is a 422.
func Pairs(source, target []faceswap.Face, r Request) ([]Pair, error) {
	if len(r.SourceIndices) == 0 {
		r.SourceIndices = []int{0}
	}
	if len(r.TargetIndices) == 0 {
		r.TargetIndices = []int{0}
	}
	if len(r.SourceIndices) != 1 && len(r.SourceIndices) != len(r.TargetIndices) {
		return nil, faceswap.Errorf(http.StatusBadRequest,
			"source_faces_index has %d indices and input_faces_index has %d; give one source index, or as many as target indices.",
			len(r.SourceIndices), len(r.TargetIndices))
	}
	src := Select(source, r.SourceGender, r.Order)
	tgt := Select(target, r.TargetGender, r.Order)
	if err := check("source_img", "source_faces_index", r.SourceIndices, len(source), src, r.SourceGender); err != nil {
		return nil, err
	}
	if err := check("target_img", "input_faces_index", r.TargetIndices, len(target), tgt, r.TargetGender); err != nil {
		return nil, err
	}
	pairs := make([]Pair, len(r.TargetIndices))
	for i, ti := range r.TargetIndices {
		si := r.SourceIndices[0]
		if len(r.SourceIndices) > 1 {
			si = r.SourceIndices[i]
		}
		pairs[i] = Pair{Source: src[si], Target: tgt[ti], SourceIndex: si, TargetIndex: ti}
	}
	return pairs, nil
}

func check(image, field string, idx []int, found int, kept []faceswap.Face, g GenderFilter) error {
	if found == 0 {
		return faceswap.Errorf(http.StatusUnprocessableEntity, "No face was found in %s.", image)
	}
	after := ""
	if g != AnyGender && g != "" {
		after = fmt.Sprintf(" after gender filter %q", string(g))
	}
	if len(kept) == 0 {
		return faceswap.Errorf(http.StatusUnprocessableEntity, "%s has no faces%s (%d found before filtering).", image, after, found)
	}
	for _, i := range idx {
		if i >= len(kept) {
			return faceswap.Errorf(http.StatusUnprocessableEntity, "%s %d is out of range: %s has %d %s (0-%d)%s.",
				field, i, image, len(kept), plural(len(kept), "face", "faces"), len(kept)-1, after)
		}
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
