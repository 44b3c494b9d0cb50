// Command samples runs a fixed set of swaps over the shared test photos and
// the face-api demo photos and writes one contact sheet per swap (source |
// target | result, scaled to one height) to a folder that is not committed,
// for people to look at, and beside it NAME-faces.png: each swapped face's
// region before and after, enlarged to one height, so that small faces and
// seams can be judged too.
//
//	go run ./tools/samples [-out samples-out] [-swap-model mesh]
package main

import (
	"context"
	"flag"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"

	"faceswap/imageio"
	"faceswap/models"
	"faceswap/onnx"
	"faceswap/pipeline"
	"faceswap/swap"
)

type sample struct {
	name, source, target string
	req                  pipeline.Request
}

func main() {
	out := flag.String("out", "samples-out", "folder for the contact sheets")
	model := flag.String("swap-model", "auto", "swap engine")
	flag.Parse()
	if err := run(*out, *model); err != nil {
		fmt.Fprintln(os.Stderr, "samples:", err)
		os.Exit(1)
	}
}

func run(out, model string) error {
	p := models.Default()
	td := os.Getenv("FACESWAP_TESTDATA")
	if td == "" {
		td = filepath.Join("..", "shared", "testdata")
	}
	img := func(n string) string { return filepath.Join(td, "images", n) }
	samples := []sample{
		{"portrait-to-group", img("portrait_woman_frontal_astronaut_collins.png"), img("group5_office_meeting.jpg"), pipeline.Request{InputFacesIndex: "0,1,2"}},
		{"group-to-group-3-pairs", img("group3_apollo11_crew.jpg"), img("group5_office_meeting.jpg"), pipeline.Request{InputFacesIndex: "0,1,2", SourceFacesIndex: "0,1,2", DetectionFaceOrder: "left-right"}},
		{"group-to-portrait", img("group5_office_meeting.jpg"), img("portrait_man_frontal_luciano.png"), pipeline.Request{SourceFacesIndex: "1"}},
		{"colour-into-grey", img("portrait_man_frontal_luciano.png"), img("portrait_man_profile_cameraman_gray.png"), pipeline.Request{}},
		{"grey-into-colour", img("portrait_man_profile_cameraman_gray.png"), img("portrait_man_glasses_beard_santa.jpg"), pipeline.Request{}},
		{"small-faces-class-photo", img("portrait_woman_frontal_smiling.png"), img("group8_nasa_astronaut_class_2013.png"), pipeline.Request{InputFacesIndex: "0,1,2,3", DetectGenderInput: "female"}},
		{"small-face-girl-with-dog", img("portrait_woman_frontal_astronaut_collins.png"), img("smallface_girl_with_dog.jpg"), pipeline.Request{}},
		{"tiny-source-to-portrait", img("portrait_man_frontal_tiny_115px.png"), img("portrait_man_frontal_luciano.png"), pipeline.Request{}},
		{"face-at-the-edge", img("portrait_woman_frontal_astronaut_collins.png"), img("group5_office_meeting.jpg"), pipeline.Request{DetectionFaceOrder: "top-bottom"}},
		{"demo-group-to-group", p.Sample(1), p.Sample(4), pipeline.Request{InputFacesIndex: "0,1,2", SourceFacesIndex: "0,1,2", DetectionFaceOrder: "left-right"}},
		{"demo-portrait-to-group", img("portrait_man_frontal_luciano.png"), p.Sample(5), pipeline.Request{InputFacesIndex: "0,1,2,3,4"}},
	}
	pl, _, err := pipeline.Open(p, onnx.Config{LibraryPath: p.ORTLibrary()})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, s := range samples {
		src, err := os.ReadFile(s.source)
		if err != nil {
			return err
		}
		dst, err := os.ReadFile(s.target)
		if err != nil {
			return err
		}
		r := s.req
		r.Source, r.Target, r.ImageFormat, r.SwapModel = src, dst, "png", model
		res, err := pl.Run(context.Background(), &r)
		if err != nil {
			fmt.Printf("%-26s FAILED: %v\n", s.name, err)
			continue
		}
		sheet, err := contactSheet(360, src, dst, res.Image)
		if err != nil {
			return err
		}
		path := filepath.Join(out, s.name+".png")
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		if err := png.Encode(f, sheet); err != nil {
			f.Close()
			return err
		}
		f.Close()
		closeUps, err := faceCloseUps(240, dst, res.Image, res.Regions)
		if err != nil {
			return err
		}
		if err := writePNG(filepath.Join(out, s.name+"-faces.png"), closeUps); err != nil {
			return err
		}
		fmt.Printf("%-26s %d face(s) swapped -> %s\n", s.name, res.FacesSwapped, path)
	}
	return nil
}

func writePNG(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// faceCloseUps puts, for each region, the target's pixels and the result's
// side by side, enlarged (nearest neighbour, so pixels stay visible) or
// reduced to height h; the pairs follow each other left to right.
func faceCloseUps(h int, target, result []byte, regions []swap.Region) (*image.NRGBA, error) {
	var tiles []*image.NRGBA
	for _, f := range [][]byte{target, result} {
		im, _, err := imageio.Decode(f, imageio.DefaultLimits)
		if err != nil {
			return nil, err
		}
		tiles = append(tiles, im)
	}
	var row []*image.NRGBA
	width := 0
	for _, r := range regions {
		b := r.Bounds.Intersect(tiles[0].Rect)
		if b.Empty() {
			continue
		}
		for _, im := range tiles {
			s := zoom(im.SubImage(b).(*image.NRGBA), h)
			row = append(row, s)
			width += s.Rect.Dx() + 4
		}
		width += 12
	}
	sheet := image.NewNRGBA(image.Rect(0, 0, max(width, 1), h))
	draw.Draw(sheet, sheet.Rect, image.White, image.Point{}, draw.Src)
	x := 0
	for i, im := range row {
		draw.Draw(sheet, im.Rect.Add(image.Pt(x, 0)), im, image.Point{}, draw.Src)
		x += im.Rect.Dx() + 4
		if i%2 == 1 {
			x += 12
		}
	}
	return sheet, nil
}

// zoom scales a region to height h: nearest neighbour when enlarging, the
// box filter of scale when reducing.
func zoom(im *image.NRGBA, h int) *image.NRGBA {
	b := im.Rect
	if b.Dy() >= h {
		c := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
		draw.Draw(c, c.Rect, im, b.Min, draw.Src)
		return scale(c, h)
	}
	f := float64(h) / float64(b.Dy())
	w := max(1, int(float64(b.Dx())*f))
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			sx, sy := b.Min.X+min(int(float64(x)/f), b.Dx()-1), b.Min.Y+min(int(float64(y)/f), b.Dy()-1)
			copy(out.Pix[out.PixOffset(x, y):out.PixOffset(x, y)+4], im.Pix[im.PixOffset(sx, sy):])
		}
	}
	return out
}

// contactSheet puts the images side by side, each scaled to height h.
func contactSheet(h int, files ...[]byte) (*image.NRGBA, error) {
	var imgs []*image.NRGBA
	width := 0
	for _, f := range files {
		im, _, err := imageio.Decode(f, imageio.DefaultLimits)
		if err != nil {
			return nil, err
		}
		s := scale(im, h)
		imgs = append(imgs, s)
		width += s.Rect.Dx() + 8
	}
	sheet := image.NewNRGBA(image.Rect(0, 0, width, h))
	draw.Draw(sheet, sheet.Rect, image.White, image.Point{}, draw.Src)
	x := 0
	for _, im := range imgs {
		draw.Draw(sheet, im.Rect.Add(image.Pt(x, 0)), im, image.Point{}, draw.Src)
		x += im.Rect.Dx() + 8
	}
	return sheet, nil
}

// scale resizes to height h by area averaging (box filter).
func scale(im *image.NRGBA, h int) *image.NRGBA {
	f := float64(im.Rect.Dy()) / float64(h)
	w := max(1, int(float64(im.Rect.Dx())/f))
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		y0, y1 := int(float64(y)*f), max(int(float64(y)*f)+1, int(float64(y+1)*f))
		for x := 0; x < w; x++ {
			x0, x1 := int(float64(x)*f), max(int(float64(x)*f)+1, int(float64(x+1)*f))
			var s [4]int
			n := 0
			for yy := y0; yy < min(y1, im.Rect.Dy()); yy++ {
				for xx := x0; xx < min(x1, im.Rect.Dx()); xx++ {
					o := im.PixOffset(xx, yy)
					for c := 0; c < 4; c++ {
						s[c] += int(im.Pix[o+c])
					}
					n++
				}
			}
			o := out.PixOffset(x, y)
			for c := 0; c < 4; c++ {
				out.Pix[o+c] = uint8(s[c] / max(n, 1))
			}
		}
	}
	return out
}
