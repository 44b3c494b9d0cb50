package main

import (
	"context"
	"faceswap/internal/atomicfile"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"faceswap"
	"faceswap/models"
	"faceswap/pipeline"
	"faceswap/swap"
)

// openPipeline loads analysis and the installed swap engines.
func openPipeline(p models.Paths) (*pipeline.Pipeline, error) {
	pl, _, err := pipeline.Open(p, ortConfig(p))
	return pl, err
}

func cmdSwap(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("swap", "swap --source S --target T -o OUT [flags]", stderr)
	r := pipeline.NewRequest()
	source := fs.String("source", "", "image whose face(s) go in (source_img)")
	target := fs.String("target", "", "image whose face(s) get replaced (target_img)")
	out := fs.String("o", "", "output file")
	fs.StringVar(&r.InputFacesIndex, "input-faces-index", "0", "target faces to replace, by index after ordering, e.g. 0,1,2")
	fs.StringVar(&r.SourceFacesIndex, "source-faces-index", "0", "source faces to use: one, or one per target index")
	fs.StringVar(&r.DetectionFaceOrder, "detection-face-order", "large-small", "large-small, small-large, top-bottom, bottom-top, left-right, right-left")
	fs.StringVar(&r.DetectGenderInput, "detect-gender-input", "no", "only target faces of this gender count: no, female, male")
	fs.StringVar(&r.DetectGenderSource, "detect-gender-source", "no", "only source faces of this gender count: no, female, male")
	fs.StringVar(&r.FaceRestore, "face-restore", models.NoRestore, "restoration model: "+strings.Join(models.Values(models.FieldFaceRestore), ", "))
	fs.Float64Var(&r.FaceRestoreWeight, "face-restore-weight", pipeline.DefaultRestoreWeight, "restoration blend 0-1")
	fs.StringVar(&r.FaceDetection, "facedetection", models.Values(models.FieldFaceDetection)[0], "detector aligning faces for restoration: "+strings.Join(models.Values(models.FieldFaceDetection), ", "))
	fs.StringVar(&r.Interpolation, "interpolation", "Bilinear", "Nearest, Bilinear, Bicubic, Lanczos")
	fs.StringVar(&r.ImageFormat, "image-format", "", "jpeg, png or webp (default: from the -o extension, else jpeg)")
	fs.IntVar(&r.ImageQuality, "image-quality", 95, "JPEG/WebP quality 10-100")
	fs.StringVar(&r.SwapModel, "swap-model", swap.Auto, "swap engine: "+strings.Join(append([]string{swap.Auto, "mesh"}, models.Values(models.FieldSwapModel)...), ", "))
	_, err := parse(fs, args, 0)
	if err != nil {
		return err
	}
	if *source == "" || *target == "" || *out == "" {
		fs.Usage()
		return fmt.Errorf("%w: swap needs --source, --target and -o", errUsage)
	}
	if r.ImageFormat == "" {
		r.ImageFormat = formatOf(*out)
	}
	if r.Source, err = readInput("source", *source); err != nil {
		return err
	}
	if r.Target, err = readInput("target", *target); err != nil {
		return err
	}
	pl, err := openPipeline(models.Default())
	if err != nil {
		return err
	}
	res, err := pl.Run(ctx, &r)
	if err != nil {
		return err
	}
	if err := writeFile(*out, res.Image); err != nil {
		return faceswap.Wrap(http.StatusBadRequest, err, "cannot write %s", *out)
	}
	fmt.Fprintf(stdout, "%s: %d face(s) swapped, %dx%d %s", *out, res.FacesSwapped, res.Width, res.Height, res.Format)
	for _, s := range res.Stages {
		fmt.Fprintf(stdout, ", %s %dms", s.Name, s.Duration.Milliseconds())
	}
	fmt.Fprintln(stdout)
	printPoor(stdout, res.Faces)
	return nil
}

// printPoor writes one line per swapped face whose pair the engine is
// judged poor at (swap/assess), numbered as input_faces_index numbers it:
//
//	warning: face 2: source face 24 px wide for a 310-px target face (source-resolution)
//
// The face is swapped all the same; the line says what to expect of it.
func printPoor(w io.Writer, faces []pipeline.FaceOutcome) {
	for _, f := range faces {
		if !f.Estimate.Poor() {
			continue
		}
		parts := make([]string, len(f.Estimate.Concerns))
		for i, c := range f.Estimate.Concerns {
			parts[i] = fmt.Sprintf("%s (%s)", c.Detail, c.Reason)
		}
		fmt.Fprintf(w, "warning: face %d: %s\n", f.TargetIndex, strings.Join(parts, "; "))
	}
}

func readInput(what, path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, faceswap.Wrap(http.StatusBadRequest, err, "cannot read the %s image %s", what, path)
	}
	return data, nil
}

// formatOf picks the output format from a file name's extension.
func formatOf(path string) string {
	switch ext := path[max(0, len(path)-5):]; {
	case hasSuffixFold(ext, ".png"):
		return "png"
	case hasSuffixFold(ext, ".webp"):
		return "webp"
	}
	return "jpeg"
}

func hasSuffixFold(s, suf string) bool {
	return len(s) >= len(suf) && equalFold(s[len(s)-len(suf):], suf)
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// writeFile writes data to path atomically.
func writeFile(path string, data []byte) error { return atomicfile.Write(path, data, 0o644) }
