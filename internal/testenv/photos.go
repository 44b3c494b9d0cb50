package testenv

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"sync"
	"testing"

	xdraw "golang.org/x/image/draw"

	"faceswap/imageio"
	"faceswap/models"
)

// The photos every machine has: set-up fetches face-api's six demo group
// photos (models.SampleCount, 1920 px wide, 3 to 5 women each) into the
// model cache, so tests that only need real faces run on a user's fresh
// clone too, with no ../shared beside it. Photos derives the smaller and
// single-face pictures the tests want from them, once per cache folder.

// DemoFaces is how many faces each demo photo shows (index 1 … 6; by eye,
// and what the default detector finds).
var DemoFaces = [...]int{0, 3, 3, 3, 4, 5, 4}

// Demo returns the path of face-api's demo photo i (1 … 6), skipping t
// (failing under CI) when set-up has not fetched it.
func Demo(t testing.TB, i int) string {
	t.Helper()
	p := models.Default()
	if err := p.Require(p.Sample(i)); err != nil {
		skip(t, "%v", err)
	}
	return p.Sample(i)
}

// The derived photos, by file name in the folder Photos returns. Each is
// made from a demo photo by a crop and a scale (facts, not tuned values):
//
//	Group3      sample1 at 960 px wide: 3 faces of about 100 px
//	Group5      sample5 at 1280 px wide: 5 faces of 115–160 px
//	Portrait    sample1's right-hand face, a 480 px square → 400×400 PNG, 1 face of about 165 px
//	Portrait2   sample3's middle face, a 520 px square → 400×400 PNG with an alpha channel, 1 face of about 180 px
//	Tiny        Portrait2 at 115×115: 1 face of about 50 px, a small image
//	NoFace      sample1's upper-left wall with pictures, 660×435: no face
const (
	Group3    = "group3.jpg"
	Group5    = "group5.jpg"
	Portrait  = "portrait.png"
	Portrait2 = "portrait2.png"
	Tiny      = "tiny.png"
	NoFace    = "noface.jpg"
)

// PhotoFaces is how many faces each derived photo shows.
var PhotoFaces = map[string]int{Group3: 3, Group5: 5, Portrait: 1, Portrait2: 1, Tiny: 1, NoFace: 0}

type derived struct {
	name   string
	sample int             // demo photo, or 0 for another derived photo
	from   string          // derived photo it is made from
	crop   image.Rectangle // in the source's pixels; empty: whole picture
	w, h   int             // final size
	alpha  bool            // PNG with an alpha channel
}

var derivations = []derived{
	{name: Group3, sample: 1, w: 960, h: 640},
	{name: Group5, sample: 5, w: 1280, h: 932},
	{name: Portrait, sample: 1, crop: image.Rect(1336, 85, 1816, 565), w: 400, h: 400},
	{name: Portrait2, sample: 3, crop: image.Rect(924, 112, 1444, 632), w: 400, h: 400, alpha: true},
	{name: Tiny, from: Portrait2, w: 115, h: 115, alpha: true},
	{name: NoFace, sample: 1, crop: image.Rect(0, 0, 440, 290), w: 660, h: 435},
}

// photosVersion names the folder of the derived photos: change it with
// the derivations, so a cache made by older code is not taken for theirs.
const photosVersion = "v1"

var (
	photosMu  sync.Mutex
	photosDir string
)

// Photos returns a folder holding every derived photo (see Group3 …
// NoFace), making them from the demo photos the first time. The folder is
// in the model cache (testphotos/VERSION/), shared by every test binary; files are
// written whole (temporary name, then rename), so concurrent test binaries
// never read half a file.
func Photos(t testing.TB) string {
	t.Helper()
	photosMu.Lock()
	defer photosMu.Unlock()
	if photosDir != "" {
		return photosDir
	}
	for i := 1; i < len(DemoFaces); i++ {
		Demo(t, i)
	}
	dir := models.Default().Path(filepath.Join("testphotos", photosVersion))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range derivations {
		if _, err := os.Stat(filepath.Join(dir, d.name)); err == nil {
			continue
		}
		if err := makePhoto(dir, d); err != nil {
			t.Fatalf("making test photo %s: %v", d.name, err)
		}
	}
	photosDir = dir
	return dir
}

// Photo returns the path of a derived photo (see Photos).
func Photo(t testing.TB, name string) string {
	t.Helper()
	if _, ok := PhotoFaces[name]; !ok {
		t.Fatalf("testenv: no derived photo %q", name)
	}
	return filepath.Join(Photos(t), name)
}

// PhotoPath returns the path of a photo by name: a derived one (Group3 …
// NoFace), which every machine has, or else one of the shared folder's
// images/ (skipping t, as TestdataDir does, when that is missing).
func PhotoPath(t testing.TB, name string) string {
	t.Helper()
	if _, ok := PhotoFaces[name]; ok {
		return Photo(t, name)
	}
	return filepath.Join(TestdataDir(t), "images", name)
}

// PhotoBytes returns the bytes of a derived photo.
func PhotoBytes(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(Photo(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func makePhoto(dir string, d derived) error {
	var src string
	if d.sample > 0 {
		src = models.Default().Sample(d.sample)
	} else {
		src = filepath.Join(dir, d.from)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	img, _, err := imageio.Decode(data, imageio.DefaultLimits)
	if err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	r := img.Bounds()
	if !d.crop.Empty() {
		if !d.crop.In(r) {
			return fmt.Errorf("crop %v is outside %s (%v)", d.crop, src, r)
		}
		r = d.crop
	}
	out := image.NewNRGBA(image.Rect(0, 0, d.w, d.h))
	xdraw.CatmullRom.Scale(out, out.Bounds(), img, r, draw.Src, nil)
	var buf bytes.Buffer
	if d.alpha {
		// Go's PNG encoder writes an opaque picture as RGB: one corner
		// pixel a shade short of opaque keeps the alpha channel.
		out.Pix[3] = 254
	}
	if filepath.Ext(d.name) == ".png" {
		err = png.Encode(&buf, out)
	} else {
		err = jpeg.Encode(&buf, out, &jpeg.Options{Quality: 90})
	}
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, d.name+".*.tmp")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, d.name))
}
