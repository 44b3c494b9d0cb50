package mesh

import (
	"math"
	"testing"

	"faceswap"
	"faceswap/internal/testenv"
	"faceswap/swap"
)

// TestPoseFit: a mesh turned in 3-D, scaled and moved is fitted back
// exactly.
func TestPoseFit(t *testing.T) {
	m := faces(t, photo(t, "portrait_man_frontal_luciano.png"))[0].Mesh
	// 25° about y, 10° about x, scale 0.6, moved
	ay, ax := 25*math.Pi/180, 10*math.Pi/180
	moved := make([]faceswap.Point3, len(m))
	for i, p := range m {
		x, y, z := p.X, p.Y, p.Z
		x, z = x*math.Cos(ay)+z*math.Sin(ay), -x*math.Sin(ay)+z*math.Cos(ay)
		y, z = y*math.Cos(ax)-z*math.Sin(ax), y*math.Sin(ax)+z*math.Cos(ax)
		moved[i] = faceswap.Point3{X: 0.6*x + 40, Y: 0.6*y - 17, Z: 0.6*z + 3}
	}
	fit := poseFit(m, moved, rigidPart(m))
	var worst float64
	for i, p := range m {
		g := fit(p)
		worst = math.Max(worst, math.Hypot(math.Hypot(g.X-moved[i].X, g.Y-moved[i].Y), g.Z-moved[i].Z))
	}
	if worst > 1e-6 {
		t.Errorf("fitted mesh off by up to %g px", worst)
	}
}

// identityVertices are where a face's shape shows and expression hardly
// moves it: the outline above the mouth, the nose's ridge and wings, the
// corners of the eyes and the brows.
func identityVertices(T []faceswap.Point3) []int {
	upper := map[int]bool{}
	for _, i := range rigidPart(T) {
		upper[i] = true
	}
	all := append([]int(nil), faceOval...)
	all = append(all, 1, 4, 5, 6, 168, 197, 195, 48, 278, 33, 133, 263, 362)
	all = append(all, rightBrow...)
	all = append(all, leftBrow...)
	var out []int
	for _, i := range all {
		if upper[i] {
			out = append(out, i)
		}
	}
	return out
}

// openings are a mesh's expression ratios: each eye's lid gap and the
// inner lips' gap over their widths.
func openings(m []faceswap.Point3) [3]float64 {
	return [3]float64{
		dist(m[rightEyeTop], m[rightEyeBottom]) / dist(m[33], m[133]),
		dist(m[leftEyeTop], m[leftEyeBottom]) / dist(m[263], m[362]),
		dist(m[innerLipTop], m[innerLipBottom]) / dist(m[mouthRightCorner], m[mouthLeftCorner]),
	}
}

// TestReshapedMesh: the mesh a target face is given (newShape) has the
// source's shape and the target's expression and pose. On pairs whose
// expressions differ (an open smile and a calm face, Santa's open mouth):
// over the outline above the mouth, the nose, the eye corners and the
// brows, both seen in the target's pose (poseFit), it goes at least half
// the way from the target's shape to the source's; each eye's opening and
// the mouth's stay the target's (within 0.01 of the width); and fitted
// back onto the target it is not turned (under 1°).
func TestReshapedMesh(t *testing.T) {
	for _, c := range []struct{ src, dst string }{
		{"portrait_man_frontal_luciano.png", "portrait_woman_frontal_smiling.png"},
		{"portrait_woman_frontal_smiling.png", "portrait_man_frontal_luciano.png"},
		{"portrait_woman_frontal_astronaut_collins.png", "portrait_man_frontal_luciano.png"},
		{"portrait_man_glasses_beard_santa.jpg", "portrait_woman_frontal_smiling.png"},
		{"portrait_man_glasses_beard_santa.jpg", "portrait_woman_frontal_astronaut_collins.png"},
	} {
		t.Run(c.src+"→"+c.dst, func(t *testing.T) {
			src, dst := photo(t, c.src), photo(t, c.dst)
			p := swap.Pair{Source: faces(t, src)[0], Target: faces(t, dst)[0]}
			T, S := p.Target.Mesh, p.Source.Mesh
			N := newShape(p, src.Rect, dst.Rect)
			toS := poseFit(S, T, rigidPart(T))
			var along, span float64
			for _, i := range identityVertices(T) {
				s := toS(S[i])
				dx, dy := s.X-T[i].X, s.Y-T[i].Y
				along += (N[i].X-T[i].X)*dx + (N[i].Y-T[i].Y)*dy
				span += dx*dx + dy*dy
			}
			ot, on := openings(T), openings(N)
			down := faceAxis(T)
			chin := (down(N[152].X, N[152].Y) - down(T[152].X, T[152].Y)) * dist(T[10], T[152]) / faceWidth(T)
			t.Logf("shape %.2f of the way to the source's; openings %.3f→%.3f, %.3f→%.3f, %.3f→%.3f; chin moved %+.1f%% of the width",
				along/span, ot[0], on[0], ot[1], on[1], ot[2], on[2], 100*chin)
			if along/span < 0.5 {
				t.Errorf("the shape went %.2f of the way to the source's, want at least 0.5", along/span)
			}
			for k := range ot {
				if math.Abs(on[k]-ot[k]) > 0.01 {
					t.Errorf("opening %d changed from %.3f to %.3f", k, ot[k], on[k])
				}
			}
			// pose: the rotation taking N onto T
			back := poseFit(N, T, rigidPart(T))
			a, b := back(N[33]), back(N[263])
			roll := math.Atan2(b.Y-a.Y, b.X-a.X) - math.Atan2(N[263].Y-N[33].Y, N[263].X-N[33].X)
			if math.Abs(roll)*180/math.Pi > 1 {
				t.Errorf("the new mesh is turned %.1f° from the target's", roll*180/math.Pi)
			}
		})
	}
}

// TestReshapeMovesPicture: after reshapeTarget alone, the face found in
// the picture has the new mesh, not the old: re-analysed, it lies closer
// to the mesh it was moved to than to the one it had (mean over the 468
// points, at most half the distance).
func TestReshapeMovesPicture(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: re-analyses photos")
	}
	for _, c := range []struct{ src, dst string }{
		{"portrait_man_frontal_luciano.png", "portrait_woman_frontal_smiling.png"},
		{"portrait_woman_frontal_astronaut_collins.png", "portrait_man_frontal_luciano.png"},
		{testenv.Portrait, testenv.Group5},
	} {
		t.Run(c.src+"→"+c.dst, func(t *testing.T) {
			src, dst := photo(t, c.src), photo(t, c.dst)
			pairs := []swap.Pair{{Source: faces(t, src)[0], Target: faces(t, dst)[0]}}
			img, shaped := moved(dst, src, pairs)
			T, N := pairs[0].Target.Mesh, shaped[0].Target.Mesh
			var O []faceswap.Point3
			for _, f := range faces(t, img) {
				if f.Box.IoU(pairs[0].Target.Box) > 0.5 {
					O = f.Mesh
				}
			}
			if O == nil {
				t.Fatal("no face found after reshaping")
			}
			var toN, toT float64
			for i := range O {
				toN += math.Hypot(O[i].X-N[i].X, O[i].Y-N[i].Y)
				toT += math.Hypot(O[i].X-T[i].X, O[i].Y-T[i].Y)
			}
			fw := faceWidth(T) * float64(len(O))
			t.Logf("re-analysed mesh: %.2f%% of the face width from the new mesh, %.2f%% from the old", 100*toN/fw, 100*toT/fw)
			if toN > 0.75*toT {
				t.Errorf("the picture did not move with the mesh: %.2f%% from the new mesh, %.2f%% from the old", 100*toN/fw, 100*toT/fw)
			}
		})
	}
}

// TestCubicAtInside: where all sixteen taps lie inside the image, cubicAt's
// unclamped sum gives the very bits of the clamped one, so the reshape's
// result does not depend on which path a pixel took.
func TestCubicAtInside(t *testing.T) {
	const w, h = 23, 17
	pix := make([]uint8, 4*w*h)
	for i := range pix {
		pix[i] = uint8((i*37 + i*i*11) % 256)
	}
	inside := 0
	for y := -1.5; y < h+1; y += 0.37 {
		for x := -1.5; x < w+1; x += 0.29 {
			r, g, b := cubicAt(pix, w, h, x, y)
			x0, y0 := math.Floor(x), math.Floor(y)
			cr, cg, cb := cubicClamped(pix, w, h, int(x0)-1, int(y0)-1, keys(float32(x-x0)), keys(float32(y-y0)))
			if r != cr || g != cg || b != cb {
				t.Fatalf("at %.2f, %.2f: %v %v %v, clamped %v %v %v", x, y, r, g, b, cr, cg, cb)
			}
			if x >= 1 && y >= 1 && x < w-3 && y < h-3 {
				inside++
			}
		}
	}
	if inside == 0 {
		t.Fatal("no point had all its taps inside")
	}
}
