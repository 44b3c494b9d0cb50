package client_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg"
	"log"
	"net/http"
	"os"

	"faceswap/client"
)

// Swap the three people of one group photo into the three leftmost people
// of another, after listing the second photo's faces in the same order.
// The server's URL and key come from the environment (FACESWAP_URL, such
// as http://127.0.0.1:8080, and FACESWAP_KEY, a key from faceswap keys
// create with 10 credits).
func Example() {
	ctx := context.Background()
	c, err := client.New(os.Getenv("FACESWAP_URL"), os.Getenv("FACESWAP_KEY"))
	if err != nil {
		log.Fatal(err)
	}
	source, err := client.ImageFile("group3.jpg")
	if err != nil {
		log.Fatal(err)
	}
	target, err := client.ImageFile("group5.jpg")
	if err != nil {
		log.Fatal(err)
	}

	// Which face has which index: ask before swapping (costs no credits).
	faces, err := c.Faces(ctx, client.FacesRequest{Image: target, DetectionFaceOrder: client.LeftRight})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("the target has %d faces\n", len(faces.Faces))

	res, err := c.Swap(ctx, client.SwapRequest{
		Source:             source,
		Target:             target,
		SourceFacesIndex:   []int{0, 1, 2},
		InputFacesIndex:    []int{0, 1, 2},
		DetectionFaceOrder: client.LeftRight,
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("swapped.jpg", res.Image, 0o644); err != nil {
		log.Fatal(err)
	}
	size, _, err := image.DecodeConfig(bytes.NewReader(res.Image))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d faces swapped into a %dx%d %s\n", res.FacesSwapped, size.Width, size.Height, res.ContentType)
	fmt.Println("credits left:", res.RemainingCredits)
	// Output:
	// the target has 5 faces
	// 3 faces swapped into a 1280x932 image/jpeg
	// credits left: 9
}

// Errors the API answers are *client.Error values with its status and
// one-sentence message; nothing is charged for them.
func ExampleError() {
	ctx := context.Background()
	c, err := client.New(os.Getenv("FACESWAP_URL"), os.Getenv("FACESWAP_KEY"))
	if err != nil {
		log.Fatal(err)
	}
	source, _ := client.ImageFile("group3.jpg")
	target, _ := client.ImageFile("group5.jpg")

	// The target has five faces (0-4): index 7 is out of range.
	_, err = c.Swap(ctx, client.SwapRequest{Source: source, Target: target, InputFacesIndex: []int{7}})
	var apiErr *client.Error
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusUnprocessableEntity {
		fmt.Println(apiErr.Status, apiErr.Message)
	}

	// A key the server does not know.
	stranger, err := client.New(os.Getenv("FACESWAP_URL"), "not-a-key")
	if err != nil {
		log.Fatal(err)
	}
	_, err = stranger.Credits(ctx)
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.Status, apiErr.Message)
	}
	// Output:
	// 422 input_faces_index 7 is out of range: target_img has 5 faces (0-4).
	// 401 The x-api-key header is missing or the key is unknown.
}
