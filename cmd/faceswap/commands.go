package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"os"
	"strconv"

	"faceswap"
	"faceswap/annotate"
	"faceswap/imageio"
	"faceswap/models"
	"faceswap/onnx"
	"faceswap/pipeline"
	"faceswap/selection"
	"faceswap/tfjs"
)

// Exit codes: 0 success, 1 internal error, 2 usage, 3 bad input (the API's
// 400 and 413), 4 no face or index out of range (422), 5 models missing or
// damaged (run make setup).
func exitCode(err error) int {
	status := faceswap.StatusOf(err)
	switch {
	case errors.Is(err, errUsage), errors.Is(err, flag.ErrHelp):
		return 2
	case errors.Is(err, models.ErrNotSetUp):
		return 5
	case status == http.StatusUnprocessableEntity:
		return 4
	case status == http.StatusNotFound:
		return 5
	case status < 500:
		return 3
	}
	return 1
}

func cmdSetup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("setup", "setup", stderr)
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	return models.Setup(ctx, models.Options{
		Log:           stdout,
		Import:        importTFJS,
		ImportVersion: tfjs.Version,
	})
}

// importTFJS converts the TensorFlow.js models set-up unpacked.
func importTFJS(src, dst string, log io.Writer) error {
	_, err := tfjs.ImportDirWith(src, dst, log, tfjs.Options{FlexibleSize: models.FlexibleSize})
	return err
}

func cmdVersion(args []string, stdout io.Writer) error {
	fmt.Fprintf(stdout, "faceswap (tfjs importer %s)\n", tfjs.Version)
	p := models.Default()
	if err := p.Require(p.ORTLibrary()); err != nil {
		fmt.Fprintf(stdout, "ONNX Runtime: not set up (%v)\n", err)
		return nil
	}
	rt, err := onnx.Open(ortConfig(p))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "ONNX Runtime %s (%s, provider %s)\n", rt.Version(), p.ORTLibrary(), rt.Config().Provider)
	return nil
}

// ortConfig reads the ONNX Runtime settings from the environment.
func ortConfig(p models.Paths) onnx.Config {
	threads, _ := strconv.Atoi(os.Getenv("FACESWAP_ORT_THREADS"))
	return onnx.Config{
		LibraryPath:    p.ORTLibrary(),
		IntraOpThreads: threads,
		Provider:       os.Getenv("FACESWAP_ORT_PROVIDER"),
	}
}

func cmdDetect(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("detect", "detect IMAGE [--order ORDER] [--gender no|female|male] [--annotate OUT.png]", stderr)
	order := fs.String("order", string(selection.LargeSmall), "face numbering: large-small, small-large, top-bottom, bottom-top, left-right, right-left")
	gender := fs.String("gender", "no", "keep only faces of this gender: no, female, male")
	annot := fs.String("annotate", "", "write a PNG with boxes, indices and meshes drawn")
	pos, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	o, err := selection.ParseOrderField("--order", *order)
	if err != nil {
		return err
	}
	g, err := selection.ParseGender("--gender", *gender)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(pos[0])
	if err != nil {
		return faceswap.Wrap(http.StatusBadRequest, err, "cannot read %s", pos[0])
	}
	// the image is decoded before any model is needed
	img, _, err := imageio.Decode(data, imageio.DefaultLimits)
	if err != nil {
		return err
	}
	pl, err := openPipeline(models.Default())
	if err != nil {
		return err
	}
	faces, err := pl.Faces(img, o, g)
	if err != nil {
		return err
	}
	if *annot != "" {
		if err := writePNG(*annot, annotate.Faces(img, faces)); err != nil {
			return faceswap.Wrap(http.StatusBadRequest, err, "cannot write the annotated image to %s", *annot)
		}
	}
	return json.NewEncoder(stdout).Encode(pipeline.ListFaces(img, faces, true))
}

// writePNG writes img to path atomically.
func writePNG(path string, img image.Image) error {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return err
	}
	return writeFile(path, buf.Bytes())
}
