package fetch_test

import (
	"context"
	"fmt"

	"faceswap"
	"faceswap/fetch"
)

// Resolve turns a request's image field into bytes. A data URI or raw base64
// is decoded (its size checked first); an http(s) URL would be fetched with
// the Fetcher given, here none.
func ExampleResolve() {
	ctx := context.Background()
	data, err := fetch.Resolve(ctx, nil, "source_img", "data:image/png;base64,iVBORw0KGgo=", 20<<20)
	fmt.Printf("%q %v\n", data, err)

	// The same bytes as raw, unpadded URL-safe base64.
	data, err = fetch.Resolve(ctx, nil, "source_img", "iVBORw0KGgo", 20<<20)
	fmt.Printf("%q %v\n", data, err)

	// Errors carry the HTTP status and a sentence naming the field.
	_, err = fetch.Resolve(ctx, nil, "target_img", "", 20<<20)
	fmt.Println(faceswap.StatusOf(err), faceswap.PublicMessage(err))
	_, err = fetch.Resolve(ctx, nil, "target_img", "file:///etc/passwd", 20<<20)
	fmt.Println(faceswap.StatusOf(err), faceswap.PublicMessage(err))

	// A Fetcher refuses private and loopback addresses before connecting.
	f, err := fetch.New(fetch.Config{})
	if err != nil {
		panic(err)
	}
	_, err = fetch.Resolve(ctx, f, "source_img", "http://169.254.169.254/latest/meta-data/", 0)
	fmt.Println(faceswap.StatusOf(err), faceswap.PublicMessage(err))
	// Output:
	// "\x89PNG\r\n\x1a\n" <nil>
	// "\x89PNG\r\n\x1a\n" <nil>
	// 400 target_img is empty.
	// 400 target_img uses the file scheme; give an http or https URL, a data URI or base64.
	// 400 source_img: The URL points to a private or loopback address, which this server does not fetch.
}
