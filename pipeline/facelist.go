package pipeline

import (
	"image"
	"math"

	"faceswap"
)

// FaceList is the JSON answer of POST /v1/faces and of the detect command:
// the image's size and its faces in the order Faces returns them, rounded
// for people to read. Keypoints are listed only by the detect command.
type FaceList struct {
	Width  int          `json:"width"`
	Height int          `json:"height"`
	Faces  []ListedFace `json:"faces"`
}

// ListedFace is one face of a FaceList.
type ListedFace struct {
	Index       int          `json:"index"`
	Box         [4]float64   `json:"box"` // x, y, width, height
	Score       float64      `json:"score"`
	Gender      string       `json:"gender"`
	GenderScore float64      `json:"gender_score"`
	Age         float64      `json:"age"`
	Keypoints   [][2]float64 `json:"keypoints,omitempty"`
}

// ListFaces lists faces (as Faces returned them for img) with their
// indices; with keypoints, each face's five keypoints too. Faces is never
// nil, so no face is answered as [].
func ListFaces(img *image.NRGBA, faces []faceswap.Face, keypoints bool) FaceList {
	out := FaceList{Width: img.Rect.Dx(), Height: img.Rect.Dy(), Faces: make([]ListedFace, 0, len(faces))}
	for i, f := range faces {
		lf := ListedFace{
			Index:       i,
			Box:         [4]float64{round(f.Box.X, 1), round(f.Box.Y, 1), round(f.Box.W, 1), round(f.Box.H, 1)},
			Score:       round(f.Score, 3),
			Gender:      string(f.Gender),
			GenderScore: round(f.GenderScore, 3),
			Age:         round(f.Age, 1),
		}
		if keypoints {
			for _, k := range f.Keypoints {
				lf.Keypoints = append(lf.Keypoints, [2]float64{round(k.X, 1), round(k.Y, 1)})
			}
		}
		out.Faces = append(out.Faces, lf)
	}
	return out
}

// round rounds v to the given number of decimals (division keeps the
// shortest decimal form exact: 135.7, not 135.70000000000002).
func round(v float64, decimals int) float64 {
	p := math.Pow(10, float64(decimals))
	return math.Round(v*p) / p
}
