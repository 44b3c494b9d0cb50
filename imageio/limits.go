package imageio

import "fmt"

// MaxSide is the largest width or height accepted, whatever the pixel limit.
const MaxSide = 65535

// Limits bounds what Decode and DecodeConfig accept.
type Limits struct {
	MaxBytes  int64 // largest encoded image, in bytes
	MaxPixels int64 // largest width × height
}

// DefaultLimits are the product defaults: 20 MB per image and 40 megapixels.
var DefaultLimits = Limits{MaxBytes: 20 << 20, MaxPixels: 40_000_000}

// Validate reports whether both limits are positive.
func (l Limits) Validate() error {
	if l.MaxBytes <= 0 {
		return fmt.Errorf("imageio: MaxBytes must be positive, got %d", l.MaxBytes)
	}
	if l.MaxPixels <= 0 {
		return fmt.Errorf("imageio: MaxPixels must be positive, got %d", l.MaxPixels)
	}
	return nil
}

// formatPixels renders a pixel count for a public message: "40 MP",
// "81.0 MP", or "5000 pixels" below a tenth of a megapixel.
func formatPixels(n int64, exact bool) string {
	switch {
	case n < 100_000:
		return fmt.Sprintf("%d pixels", n)
	case exact && n%1_000_000 == 0:
		return fmt.Sprintf("%d MP", n/1_000_000)
	default:
		return fmt.Sprintf("%.1f MP", float64(n)/1e6)
	}
}
