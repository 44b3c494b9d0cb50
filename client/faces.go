package client

import (
	"context"
	"net/http"
)

// FacesRequest is the body of POST /v1/faces.
type FacesRequest struct {
	Image              Image
	DetectionFaceOrder string // as in SwapRequest (default LargeSmall)
	DetectGender       string // AnyGender (default), Female or Male
}

// Face is one face found, numbered as a swap with the same order and
// gender filter numbers it.
type Face struct {
	Index       int        `json:"index"` // the index to give in InputFacesIndex or SourceFacesIndex
	Box         [4]float64 `json:"box"`   // x, y, width, height in pixels
	Score       float64    `json:"score"`
	Gender      string     `json:"gender"` // "female", "male" or "" (unknown)
	GenderScore float64    `json:"gender_score"`
	Age         float64    `json:"age"`
}

// Faces is the answer of POST /v1/faces: the image's size (after its EXIF
// orientation) and its faces in order.
type Faces struct {
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Faces  []Face `json:"faces"`
	Meta   `json:"-"`
}

type facesBody struct {
	Image              string `json:"image"`
	DetectionFaceOrder string `json:"detection_face_order,omitempty"`
	DetectGender       string `json:"detect_gender,omitempty"`
}

// Faces lists the faces of an image, numbered as a swap would number them,
// so a caller can choose indices before swapping. It needs a key and
// counts against its rate limit, but costs no credits.
func (c *Client) Faces(ctx context.Context, r FacesRequest) (*Faces, error) {
	img, ok := r.Image.field()
	if !ok {
		return nil, errNoImage
	}
	resp, err := c.do(ctx, http.MethodPost, "/v1/faces", facesBody{img, r.DetectionFaceOrder, r.DetectGender})
	var out Faces
	if out.Meta, err = c.answer(resp, err, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
