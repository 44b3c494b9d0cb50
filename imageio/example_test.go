package imageio_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"

	"faceswap"
	"faceswap/imageio"
)

func Example() {
	// An upload: here a 3x2 PNG made on the spot.
	src := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	src.SetNRGBA(0, 0, color.NRGBA{255, 0, 0, 255})
	var upload bytes.Buffer
	if err := png.Encode(&upload, src); err != nil {
		panic(err)
	}

	img, info, err := imageio.Decode(upload.Bytes(), imageio.DefaultLimits)
	if err != nil {
		fmt.Println(faceswap.StatusOf(err), faceswap.PublicMessage(err))
		return
	}
	fmt.Printf("%s %dx%d orientation %d, top-left %v\n",
		info.Format, info.Width, info.Height, info.Orientation, img.NRGBAAt(0, 0))

	// Untrusted bytes that are no image get a 400 with a public sentence.
	_, _, err = imageio.Decode([]byte("not an image"), imageio.DefaultLimits)
	fmt.Println(faceswap.StatusOf(err), faceswap.PublicMessage(err))

	// The header is checked against the limits before any pixel is decoded.
	_, err = imageio.DecodeConfig(upload.Bytes(), imageio.Limits{MaxBytes: 1 << 20, MaxPixels: 4})
	fmt.Println(faceswap.StatusOf(err), faceswap.PublicMessage(err))

	var out bytes.Buffer
	if err := imageio.Encode(&out, img, "jpeg", 90); err != nil {
		panic(err)
	}
	fmt.Println("JPEG starts with", out.Bytes()[:2])
	// Output:
	// png 3x2 orientation 1, top-left {255 0 0 255}
	// 400 The image could not be decoded: unsupported format (expected JPEG, PNG, WebP or GIF).
	// 413 The image is 3x2 pixels (6 pixels), over the limit of 4 pixels.
	// JPEG starts with [255 216]
}
