// Package stats holds the few summary statistics the benchmark and soak
// tools report.
package stats

import (
	"math"
	"slices"
)

// Percentile is the nearest-rank p-th percentile of v (0 < p ≤ 1; 0 for no
// values); v is not reordered.
func Percentile(v []float64, p float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	k := int(math.Ceil(p*float64(len(s)))) - 1
	return s[max(0, min(k, len(s)-1))]
}

// Median is Percentile(v, 0.5).
func Median(v []float64) float64 { return Percentile(v, 0.5) }

// Mean is the arithmetic mean of v (NaN for no values).
func Mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}
