package httpapi

import (
	"net/http"
	"strconv"
	"strings"

	"faceswap/jobs"
)

// The headers of a successful swap that say how well each face suited the
// engine (swap/assess), for clients that read only headers (the image
// answer has no room for more):
//
//	X-Faces-Quality: 0=0.92,2=0.41          every swapped face, in request order
//	X-Faces-Poor: 2=source-resolution+expression-gap   only the poor ones; absent when none
//
// The keys are the target indices of input_faces_index; the sentences
// with the measured numbers are in the JSON (faces_quality).
const (
	qualityHeader = "X-Faces-Quality"
	poorHeader    = "X-Faces-Poor"
)

// setQuality sets both headers from faces (nothing for none: a job
// finished before quality was estimated).
func setQuality(h http.Header, faces []jobs.FaceQuality) {
	if len(faces) == 0 {
		return
	}
	var quality, poor []string
	for _, f := range faces {
		i := strconv.Itoa(f.Index)
		quality = append(quality, i+"="+strconv.FormatFloat(f.Quality, 'f', 2, 64))
		if len(f.Poor) > 0 {
			reasons := make([]string, len(f.Poor))
			for k, p := range f.Poor {
				reasons[k] = p.Reason
			}
			poor = append(poor, i+"="+strings.Join(reasons, "+"))
		}
	}
	h.Set(qualityHeader, strings.Join(quality, ","))
	if len(poor) > 0 {
		h.Set(poorHeader, strings.Join(poor, ","))
	}
}
