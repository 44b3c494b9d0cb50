package restore

import (
	"sort"

	"faceswap"
	"faceswap/swap"
)

// MinIoU is the box overlap at which a facedetection detection is taken
// to be a swapped face (Realign).
const MinIoU = 0.4

// Swapped returns the faces a swap changed, each once, with the region it
// changed: targets[i] is the target face of the swap that returned
// regions[i]. A face swapped more than once (the same target in several
// pairs) gets the union of its regions (the larger alpha at each pixel).
// Faces keep the order of their first swap.
func Swapped(targets []faceswap.Face, regions []swap.Region) ([]faceswap.Face, []swap.Region) {
	var faces []faceswap.Face
	var merged [][]swap.Region
	for i, t := range targets {
		j := 0
		for j < len(faces) && !(faces[j].Box == t.Box && faces[j].Keypoints == t.Keypoints) {
			j++
		}
		if j == len(faces) {
			faces = append(faces, t)
			merged = append(merged, nil)
		}
		if i < len(regions) {
			merged[j] = append(merged[j], regions[i])
		}
	}
	out := make([]swap.Region, len(faces))
	for j, rs := range merged {
		out[j] = swap.Union(rs...)
	}
	return faces, out
}

// Realign gives each face the five landmarks of the detection (of the
// facedetection detector, run on the swapped picture) that is the same
// face: detections and faces are matched one to one by box overlap,
// largest IoU first, down to MinIoU. A face no detection matches keeps its
// own keypoints. It returns the faces (copies) and how many matched.
func Realign(faces, detections []faceswap.Face) ([]faceswap.Face, int) {
	out := append([]faceswap.Face(nil), faces...)
	type cand struct {
		f, d int
		iou  float64
	}
	var cs []cand
	for i, f := range faces {
		for j, d := range detections {
			if v := f.Box.IoU(d.Box); v >= MinIoU {
				cs = append(cs, cand{i, j, v})
			}
		}
	}
	sort.SliceStable(cs, func(a, b int) bool { return cs[a].iou > cs[b].iou })
	usedF := make([]bool, len(faces))
	usedD := make([]bool, len(detections))
	n := 0
	for _, c := range cs {
		if usedF[c.f] || usedD[c.d] {
			continue
		}
		usedF[c.f], usedD[c.d] = true, true
		out[c.f].Keypoints = detections[c.d].Keypoints
		n++
	}
	return out, n
}
