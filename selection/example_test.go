package selection_test

import (
	"fmt"

	"faceswap"
	"faceswap/selection"
)

// One source face goes into several target faces. Both images' faces are
// numbered left to right; the target's are numbered after keeping only the
// women, so target index 2 is the third woman from the left.
func ExamplePairs() {
	source := []faceswap.Face{
		{Box: faceswap.Rect{X: 40, Y: 30, W: 120, H: 140}, Score: 0.97, Gender: faceswap.Female},
		{Box: faceswap.Rect{X: 300, Y: 50, W: 60, H: 70}, Score: 0.91, Gender: faceswap.Male},
	}
	target := []faceswap.Face{
		{Box: faceswap.Rect{X: 500, Y: 80, W: 90, H: 100}, Score: 0.95, Gender: faceswap.Female},
		{Box: faceswap.Rect{X: 60, Y: 90, W: 80, H: 90}, Score: 0.93, Gender: faceswap.Female},
		{Box: faceswap.Rect{X: 280, Y: 70, W: 100, H: 110}, Score: 0.96, Gender: faceswap.Male},
		{Box: faceswap.Rect{X: 700, Y: 60, W: 70, H: 80}, Score: 0.88, Gender: faceswap.Female},
	}
	pairs, err := selection.Pairs(source, target, selection.Request{
		SourceIndices: []int{0},
		TargetIndices: []int{0, 1, 2},
		TargetGender:  selection.OnlyFemale,
		Order:         selection.LeftRight,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range pairs {
		fmt.Printf("source %d (x=%g) -> target %d (x=%g, %s)\n",
			p.SourceIndex, p.Source.Box.X, p.TargetIndex, p.Target.Box.X, p.Target.Gender)
	}

	// Asking for a fourth woman is a 422: there are three.
	_, err = selection.Pairs(source, target, selection.Request{
		TargetIndices: []int{3},
		TargetGender:  selection.OnlyFemale,
	})
	fmt.Println(faceswap.StatusOf(err), err)
	// Output:
	// source 0 (x=40) -> target 0 (x=60, female)
	// source 0 (x=40) -> target 1 (x=500, female)
	// source 0 (x=40) -> target 2 (x=700, female)
	// 422 input_faces_index 3 is out of range: target_img has 3 faces (0-2) after gender filter "female".
}
