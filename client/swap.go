package client

import (
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"mime"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// Image is an input image: a URL the server fetches, or the image's bytes
// sent inline. The zero Image is no image.
type Image struct {
	url  string
	data []byte
}

// ImageURL is an http(s) URL the server fetches (subject to its SSRF rules:
// no loopback or private addresses unless it allows them).
func ImageURL(u string) Image { return Image{url: u} }

// ImageBytes is an encoded image (JPEG, PNG, WebP or GIF) sent inline.
func ImageBytes(b []byte) Image { return Image{data: b} }

// ImageFile reads an image file to send inline.
func ImageFile(path string) (Image, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Image{}, fmt.Errorf("client: %w", err)
	}
	return ImageBytes(b), nil
}

// field renders the image as the API's image fields take it.
func (im Image) field() (string, bool) {
	switch {
	case im.url != "":
		return im.url, true
	case len(im.data) > 0:
		return base64.StdEncoding.EncodeToString(im.data), true
	}
	return "", false
}

// Face orders (detection_face_order): how faces are numbered.
const (
	LargeSmall = "large-small" // by box area, largest first (the default)
	SmallLarge = "small-large"
	TopBottom  = "top-bottom" // by the box's top edge
	BottomTop  = "bottom-top"
	LeftRight  = "left-right" // by the box's left edge
	RightLeft  = "right-left"
)

// Gender filters (detect_gender_input, detect_gender_source, detect_gender).
const (
	AnyGender = "no"
	Female    = "female"
	Male      = "male"
)

// SwapRequest is the body of POST /v1/faceswap-v3-multifaceswap. Zero
// fields are left out, so the server's defaults apply (SPEC §2).
type SwapRequest struct {
	Source Image // the face(s) to put in (required)
	Target Image // the picture whose face(s) get replaced (required)

	// InputFacesIndex are the target faces to replace and
	// SourceFacesIndex the source faces to use, by index after the gender
	// filter and the order (default [0] each). One source index goes into
	// every target index; otherwise they pair by position.
	InputFacesIndex  []int
	SourceFacesIndex []int

	DetectionFaceOrder string // LargeSmall (default), SmallLarge, TopBottom, BottomTop, LeftRight, RightLeft
	DetectGenderInput  string // AnyGender (default), Female or Male: only target faces of this gender count
	DetectGenderSource string // the same for the source faces

	FaceRestore       string   // "disable" (default), "codeformer-v0.1.0.pth", "GFPGANv1.4.pth", "GFPGANv1.3.pth"
	FaceRestoreWeight *float64 // 0–1 (default 0.75); a pointer because 0 is a value
	FaceDetection     string   // detector aligning faces for restoration: "retinaface_resnet50" (default), …
	Interpolation     string   // "Nearest", "Bilinear" (default), "Bicubic", "Lanczos"
	ImageFormat       string   // "jpeg" (default), "png", "webp"
	ImageQuality      int      // 10–100 (0: the default, 95)
	SwapModel         string   // our extension: "auto" (default), "mesh", "inswapper_128"
}

// Weight returns a pointer to w, for SwapRequest.FaceRestoreWeight.
func Weight(w float64) *float64 { return &w }

// swapBody is SwapRequest on the wire. The answer is always asked for as
// bytes (base64 false); the client hands back the bytes either way.
type swapBody struct {
	SourceImg          string   `json:"source_img"`
	TargetImg          string   `json:"target_img"`
	InputFacesIndex    string   `json:"input_faces_index,omitempty"`
	SourceFacesIndex   string   `json:"source_faces_index,omitempty"`
	DetectionFaceOrder string   `json:"detection_face_order,omitempty"`
	DetectGenderInput  string   `json:"detect_gender_input,omitempty"`
	DetectGenderSource string   `json:"detect_gender_source,omitempty"`
	FaceRestore        string   `json:"face_restore,omitempty"`
	FaceRestoreWeight  *float64 `json:"face_restore_weight,omitempty"`
	FaceDetection      string   `json:"facedetection,omitempty"`
	Interpolation      string   `json:"interpolation,omitempty"`
	ImageFormat        string   `json:"image_format,omitempty"`
	ImageQuality       int      `json:"image_quality,omitempty"`
	Base64             bool     `json:"base64"`
	SwapModel          string   `json:"swap_model,omitempty"`
	Webhook            string   `json:"webhook,omitempty"` // v2 only
}

func indexList(idx []int) string {
	parts := make([]string, len(idx))
	for i, v := range idx {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts, ",")
}

func (r *SwapRequest) body() (*swapBody, error) {
	src, ok1 := r.Source.field()
	tgt, ok2 := r.Target.field()
	if !ok1 || !ok2 {
		return nil, errNoImage
	}
	return &swapBody{
		SourceImg:          src,
		TargetImg:          tgt,
		InputFacesIndex:    indexList(r.InputFacesIndex),
		SourceFacesIndex:   indexList(r.SourceFacesIndex),
		DetectionFaceOrder: r.DetectionFaceOrder,
		DetectGenderInput:  r.DetectGenderInput,
		DetectGenderSource: r.DetectGenderSource,
		FaceRestore:        r.FaceRestore,
		FaceRestoreWeight:  r.FaceRestoreWeight,
		FaceDetection:      r.FaceDetection,
		Interpolation:      r.Interpolation,
		ImageFormat:        r.ImageFormat,
		ImageQuality:       r.ImageQuality,
		SwapModel:          r.SwapModel,
	}, nil
}

// Timing is one stage of a request, from the Server-Timing header.
type Timing struct {
	Name     string
	Duration time.Duration
}

// SwapResult is a successful swap.
type SwapResult struct {
	Image        []byte // the encoded result, at the target's size
	ContentType  string // image/jpeg, image/png or image/webp
	FacesSwapped int
	Timings      []Timing // per stage, in order: fetch, queue, decode, detect, select, swap, encode, …
	// Faces is how well each swapped face suited the engine, in the
	// request's order (X-Faces-Quality and X-Faces-Poor); empty when the
	// server does not say.
	Faces []FaceQuality
	Meta
}

// FaceQuality is the server's estimate for one swapped face: Index is its
// target index (as in InputFacesIndex), Quality 0..1, and Poor the reasons
// the engine is judged poor at it ("pose-gap", "source-resolution",
// "occlusion", "expression-gap"), empty when it is not.
type FaceQuality struct {
	Index   int
	Quality float64
	Poor    []string
}

// ParseFacesQuality reads X-Faces-Quality ("0=0.92,2=0.41") and
// X-Faces-Poor ("2=pose-gap+expression-gap"). Unreadable entries are
// skipped.
func ParseFacesQuality(quality, poor string) []FaceQuality {
	reasons := map[int][]string{}
	for _, entry := range strings.Split(poor, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(entry), "=")
		i, err := strconv.Atoi(k)
		if !ok || err != nil || v == "" {
			continue
		}
		reasons[i] = strings.Split(v, "+")
	}
	var out []FaceQuality
	for _, entry := range strings.Split(quality, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(entry), "=")
		i, err1 := strconv.Atoi(k)
		q, err2 := strconv.ParseFloat(v, 64)
		if !ok || err1 != nil || err2 != nil {
			continue
		}
		out = append(out, FaceQuality{Index: i, Quality: q, Poor: reasons[i]})
	}
	return out
}

// Swap puts the source's faces into the target (POST
// /v1/faceswap-v3-multifaceswap). Only a success is charged.
func (c *Client) Swap(ctx context.Context, r SwapRequest) (*SwapResult, error) {
	body, err := r.body()
	if err != nil {
		return nil, err
	}
	return c.swapResult(c.do(ctx, http.MethodPost, "/v1/faceswap-v3-multifaceswap", body))
}

// swapResult reads the image answer of a call (resp, or the call's error
// err): of a swap, or of a v2 result.
func (c *Client) swapResult(resp *http.Response, err error) (*SwapResult, error) {
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if !strings.HasPrefix(ct, "image/") {
		return nil, fmt.Errorf("client: the answer is %q, not an image", resp.Header.Get("Content-Type"))
	}
	data, err := c.read(resp)
	if err != nil {
		return nil, err
	}
	n, _ := strconv.Atoi(resp.Header.Get("X-Faces-Swapped"))
	return &SwapResult{
		Image:        data,
		ContentType:  ct,
		FacesSwapped: n,
		Timings:      ParseServerTiming(resp.Header.Get("Server-Timing")),
		Faces:        ParseFacesQuality(resp.Header.Get("X-Faces-Quality"), resp.Header.Get("X-Faces-Poor")),
		Meta:         metaOf(resp.Header),
	}, nil
}

// maxMillis is the longest duration, in milliseconds, a time.Duration holds.
const maxMillis = float64(math.MaxInt64 / int64(time.Millisecond))

// ParseServerTiming reads a Server-Timing header ("decode;dur=12.4,
// detect;dur=95.3") into its stages, in order. Entries without a duration
// get 0; unreadable ones are skipped.
func ParseServerTiming(h string) []Timing {
	var out []Timing
	for _, entry := range strings.Split(h, ",") {
		params := strings.Split(entry, ";")
		name := strings.TrimSpace(params[0])
		if name == "" {
			continue
		}
		t := Timing{Name: name}
		for _, p := range params[1:] {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(strings.TrimSpace(k), "dur") {
				// Only durations a time.Duration holds (NaN fails both tests).
				if ms, err := strconv.ParseFloat(strings.Trim(strings.TrimSpace(v), `"`), 64); err == nil && ms >= 0 && ms < maxMillis {
					t.Duration = time.Duration(ms * float64(time.Millisecond))
				}
			}
		}
		out = append(out, t)
	}
	return out
}
