package jobs

import (
	"encoding/json"
	"testing"

	"faceswap/pipeline"
	"faceswap/swap/assess"
)

// TestFacesQuality: the API's form of the estimates keeps the request's
// order and indices, rounds to two decimals without letting a poor face
// round up to 0.5, and lists the reasons with their sentences.
func TestFacesQuality(t *testing.T) {
	faces := []pipeline.FaceOutcome{
		{TargetIndex: 2, SourceIndex: 0, Estimate: assess.Estimate{Score: 0.9871}},
		{TargetIndex: 0, SourceIndex: 1, Estimate: assess.Estimate{Score: 0.4981, Concerns: []assess.Concern{
			{Reason: assess.SourceResolution, Detail: "source face 24 px wide for a 310-px target face"},
			{Reason: assess.ExpressionGap, Detail: "the target's mouth is open"},
		}}},
	}
	b, err := json.Marshal(FacesQuality(faces))
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"index":2,"quality":0.99},{"index":0,"quality":0.49,"poor":[` +
		`{"reason":"source-resolution","detail":"source face 24 px wide for a 310-px target face"},` +
		`{"reason":"expression-gap","detail":"the target's mouth is open"}]}]`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	if FacesQuality(nil) != nil {
		t.Error("no faces: want nil (the field left out)")
	}
}
