package pipeline

import (
	"encoding/json"
	"image"
	"testing"

	"faceswap"
)

func TestListFaces(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 640, 480))
	f := faceswap.Face{
		Box:   faceswap.Rect{X: 10.04, Y: 20.06, W: 100.55, H: 120.449},
		Score: 0.98765, Gender: faceswap.Female, GenderScore: 0.91234, Age: 31.26,
	}
	for i := range f.Keypoints {
		f.Keypoints[i] = faceswap.Point{X: float64(i) + 0.14, Y: float64(i) + 0.16}
	}
	for _, c := range []struct {
		faces     []faceswap.Face
		keypoints bool
		want      string
	}{
		{nil, false, `{"width":640,"height":480,"faces":[]}`},
		{[]faceswap.Face{f}, false, `{"width":640,"height":480,"faces":[{"index":0,"box":[10,20.1,100.6,120.4],"score":0.988,"gender":"female","gender_score":0.912,"age":31.3}]}`},
		{[]faceswap.Face{f, f}, true, `{"width":640,"height":480,"faces":[` +
			`{"index":0,"box":[10,20.1,100.6,120.4],"score":0.988,"gender":"female","gender_score":0.912,"age":31.3,"keypoints":[[0.1,0.2],[1.1,1.2],[2.1,2.2],[3.1,3.2],[4.1,4.2]]},` +
			`{"index":1,"box":[10,20.1,100.6,120.4],"score":0.988,"gender":"female","gender_score":0.912,"age":31.3,"keypoints":[[0.1,0.2],[1.1,1.2],[2.1,2.2],[3.1,3.2],[4.1,4.2]]}]}`},
	} {
		b, err := json.Marshal(ListFaces(img, c.faces, c.keypoints))
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != c.want {
			t.Errorf("ListFaces(%d faces, keypoints %v) =\n%s\nwant\n%s", len(c.faces), c.keypoints, b, c.want)
		}
	}
}
