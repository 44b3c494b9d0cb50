package detect_test

import (
	"fmt"

	"faceswap"
	"faceswap/detect"
)

// Two tiles saw the same face and a third face lies elsewhere: the
// overlapping pair merges into one detection whose box is the
// score-weighted mean, and the result is ordered by score.
func ExampleWeightedNMS() {
	dets := []detect.Detection{
		{Box: faceswap.Rect{X: 100, Y: 100, W: 40, H: 40}, Score: 0.9},
		{Box: faceswap.Rect{X: 104, Y: 102, W: 44, H: 44}, Score: 0.6},
		{Box: faceswap.Rect{X: 300, Y: 50, W: 30, H: 30}, Score: 0.95},
	}
	for _, d := range detect.WeightedNMS(dets, 0.3) {
		fmt.Printf("score %.2f box %.1f,%.1f %.1f×%.1f\n", d.Score, d.Box.X, d.Box.Y, d.Box.W, d.Box.H)
	}
	// Output:
	// score 0.95 box 300.0,50.0 30.0×30.0
	// score 0.90 box 101.6,100.8 41.6×41.6
}
