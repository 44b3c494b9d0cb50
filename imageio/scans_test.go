package imageio

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

// lastScan returns the last scan of a JPEG (its SOS segment and entropy-
// coded data) and where it starts; the file ends with EOI after it.
func lastScan(t *testing.T, j []byte) (scan []byte, at int) {
	t.Helper()
	at = bytes.LastIndex(j, []byte{0xFF, 0xDA})
	if at < 0 || !bytes.HasSuffix(j, []byte{0xFF, 0xD9}) {
		t.Fatal("no scan, or no EOI at the end")
	}
	return j[at : len(j)-2], at
}

func TestJPEGScans(t *testing.T) {
	for _, c := range []struct {
		name     string
		min, max int
	}{
		{"baseline-444.jpg", 1, 1}, {"baseline-411.jpg", 1, 1}, {"progressive-420.jpg", 2, 20}, {"progressive-gray.jpg", 2, 20},
	} {
		if n := jpegScans(fixture(t, c.name), MaxJPEGScans); n < c.min || n > c.max {
			t.Errorf("%s: %d scans, want %d-%d", c.name, n, c.min, c.max)
		}
	}
	if n := jpegScans(encJPEG(t, pattern(40, 30, false), 80), MaxJPEGScans); n != 1 {
		t.Errorf("image/jpeg output: %d scans, want 1", n)
	}
	// Stuffed bytes, restart markers and fill inside the entropy-coded
	// data are not markers.
	j := fixture(t, "progressive-420.jpg")
	n := jpegScans(j, MaxJPEGScans)
	scan, at := lastScan(t, j)
	odd := append(append(append([]byte{}, j[:at]...), scan...), 0xFF, 0x00, 0xFF, 0xD3, 0xFF, 0xFF, 0xFF, 0xD9)
	if got := jpegScans(odd, MaxJPEGScans); got != n {
		t.Errorf("with stuffing, restarts and fill: %d scans, want %d", got, n)
	}
}

// TestScanBomb: a progressive JPEG whose last scan is repeated 600 times
// (a decoder re-walks every block of the picture for each scan) is refused
// at the header, before any decoder runs, in both builds; 500 scans pass
// the header check.
func TestScanBomb(t *testing.T) {
	j := fixture(t, "progressive-420.jpg")
	scan, at := lastScan(t, j)
	bomb := append([]byte{}, j[:at]...)
	for range 600 {
		bomb = append(bomb, scan...)
	}
	bomb = append(bomb, 0xFF, 0xD9)
	start := time.Now()
	_, _, err := Decode(bomb, DefaultLimits)
	wantError(t, err, 400, "more than 500 scans")
	if d := time.Since(start); d > time.Second {
		t.Logf("refusing took %v", d) // informative only: timing is for benchmarks
	}
	if _, err := DecodeConfig(bomb, DefaultLimits); err == nil {
		t.Error("DecodeConfig accepts the bomb")
	}
	ok := append([]byte{}, j[:at]...)
	for range MaxJPEGScans - jpegScans(j, MaxJPEGScans) + 1 {
		ok = append(ok, scan...)
	}
	ok = append(ok, 0xFF, 0xD9)
	if n := jpegScans(ok, MaxJPEGScans); n != MaxJPEGScans {
		t.Fatalf("%d scans, want %d", n, MaxJPEGScans)
	}
	if _, err := DecodeConfig(ok, DefaultLimits); err != nil {
		t.Errorf("%d scans: %v", MaxJPEGScans, err)
	}
}

func TestJPEGWalkPassesScans(t *testing.T) {
	b := []byte{0xFF, 0xD8, // SOI
		0xFF, 0xE1, 0x00, 0x04, 'a', 'b', // APP1
		0xFF, 0xFF, // fill
		0xFF, 0xDA, 0x00, 0x04, 'c', 'd', // SOS
		0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0xFF, 0xFF, // entropy-coded data, stuffing, a restart, fill
		0xFF, 0xFE, 0x00, 0x04, 'e', 'f', // COM
		0xFF, 0xD9, // EOI
		0xFF, 0xE2, 0x00, 0x02, // after the end: not read
	}
	var walked, before []string
	jpegWalk(b, func(m byte, seg []byte) bool {
		walked = append(walked, fmt.Sprintf("%X:%s", m, seg))
		return true
	})
	jpegSegments(b, func(m byte, seg []byte) bool {
		before = append(before, fmt.Sprintf("%X:%s", m, seg))
		return true
	})
	if got, want := strings.Join(walked, " "), "E1:ab DA:cd FE:ef"; got != want {
		t.Errorf("jpegWalk saw %q, want %q", got, want)
	}
	if got, want := strings.Join(before, " "), "E1:ab"; got != want {
		t.Errorf("jpegSegments saw %q, want %q", got, want)
	}
	if n := jpegScans(b, MaxJPEGScans); n != 1 {
		t.Errorf("jpegScans = %d, want 1", n)
	}
}
