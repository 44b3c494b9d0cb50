package imageio

import (
	"strings"
	"sync"
	"testing"
)

// TestTruncatedJPEGConcurrently: a truncated JPEG is called truncated even
// while other goroutines decode broken JPEGs at the same time. libjpeg-turbo
// keeps a warning's message in a thread-local buffer, and a goroutine that
// moved to another OS thread between the decode and reading the message
// read another decode's words (seen under load in an end-to-end test).
func TestTruncatedJPEGConcurrently(t *testing.T) {
	data := readFile(t, demoPhoto(t, 1))
	cut := data[:len(data)/2]
	corrupt := append([]byte(nil), data...)
	for i := len(corrupt) / 3; i < len(corrupt)/3+400; i++ {
		corrupt[i] = 0xFF
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	wrong := 0
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 15 {
				if g%2 == 1 {
					Decode(corrupt, DefaultLimits)
					continue
				}
				_, _, err := Decode(cut, DefaultLimits)
				if err == nil || !strings.Contains(err.Error(), "truncated") {
					mu.Lock()
					wrong++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if wrong > 0 {
		t.Errorf("%d of 60 decodes of a truncated JPEG were not called truncated", wrong)
	}
}
