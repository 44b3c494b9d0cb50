package stats

import "testing"

func TestPercentile(t *testing.T) {
	v := []float64{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	if got := Median(v); got != 5 {
		t.Errorf("median %v, want 5", got)
	}
	if got := Percentile(v, 0.95); got != 10 {
		t.Errorf("p95 %v, want 10", got)
	}
	if got := Percentile(nil, 0.5); got != 0 {
		t.Errorf("empty: %v", got)
	}
	if v[0] != 5 {
		t.Error("percentile sorted its argument")
	}
	if got := Mean([]float64{1, 2, 6}); got != 3 {
		t.Errorf("mean %v, want 3", got)
	}
}
