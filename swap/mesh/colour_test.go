package mesh

import (
	"math"
	"testing"
)

// The tabulated curves must stay within the stated error of the exact ones
// everywhere, including around the linear segments' joins.
func TestCurveTables(t *testing.T) {
	var worstF, worstS float64
	for i := 0; i <= 1_000_000; i++ {
		c := float64(i) / 1_000_000
		worstF = math.Max(worstF, math.Abs(labF(c)-labFExact(c)))
		worstS = math.Max(worstS, math.Abs(float64(toSRGB(c))-toSRGBExact(c)))
	}
	// labF's error is scaled by 116 (L*) or 500 (a*) in L*a*b*.
	if worstF*500 > 1e-2 {
		t.Errorf("labF table: worst error %.3g (×500 = %.3g in a*)", worstF, worstF*500)
	}
	if worstS > 0.01 {
		t.Errorf("toSRGB table: worst error %.3g levels", worstS)
	}
	for _, c := range []float64{-0.5, -1e-9, 1 + 1e-9, 1.5} {
		if labF(c) != labFExact(c) || float64(toSRGB(c)) != float64(float32(toSRGBExact(c))) {
			t.Errorf("outside [0, 1] at %g: not the exact curve", c)
		}
	}
	t.Logf("worst error: labF %.3g, toSRGB %.3g levels", worstF, worstS)
}
