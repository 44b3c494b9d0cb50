package models

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestRegistryWellFormed: every model has a name no other has (in any
// case), a role, a family and a plain NAME.onnx file of its own; the
// models it runs with exist; the values a request field takes are unique
// (in any case) and name models of that field's role.
func TestRegistryWellFormed(t *testing.T) {
	names, files := map[string]bool{}, map[string]bool{}
	for _, m := range All() {
		switch {
		case m.Name == "" || m.Role == "" || m.Family == "":
			t.Errorf("%+v: a name, a role and a family are needed", m)
		case names[strings.ToLower(m.Name)]:
			t.Errorf("%s is listed twice", m.Name)
		case m.File != filepath.Base(m.File) || !strings.HasSuffix(m.File, ".onnx") || files[m.File]:
			t.Errorf("%s: file %q must be a plain NAME.onnx of its own", m.Name, m.File)
		}
		names[strings.ToLower(m.Name)], files[m.File] = true, true
		for _, w := range m.With {
			if _, ok := Lookup(w); !ok {
				t.Errorf("%s runs with %s, which is not in the registry", m.Name, w)
			}
		}
		if m.Value != "" && FieldOf(m) == "" {
			t.Errorf("%s has the value %q but its role %s has no request field", m.Name, m.Value, m.Role)
		}
	}
	for _, f := range []string{FieldFaceRestore, FieldFaceDetection, FieldSwapModel} {
		seen := map[string]bool{}
		for _, v := range Values(f) {
			if seen[strings.ToLower(v)] {
				t.Errorf("%s: %q twice", f, v)
			}
			seen[strings.ToLower(v)] = true
			if v == NoRestore {
				continue
			}
			m, ok := ByValue(f, v)
			if !ok || m.Role != fieldRoles[f] || !m.Optional {
				t.Errorf("%s %q names %+v, %v: want an optional %s", f, v, m, ok, fieldRoles[f])
			}
		}
	}
	// The set-up's models are among the TF.js models it converts.
	for _, n := range []string{BlazeFace, FaceMesh, FaceRes} {
		if m, ok := Lookup(n); !ok || m.Optional || !slices.Contains(TFJSModels, n) || m.File != n+".onnx" {
			t.Errorf("%s: %+v, %v: want a set-up model converted from tfjs/%s.json", n, m, ok, n)
		}
	}
}

// TestValues: the values of the API's fields, in the API's order, default
// first.
func TestValues(t *testing.T) {
	for field, want := range map[string][]string{
		FieldFaceRestore:   {"disable", "codeformer-v0.1.0.pth", "GFPGANv1.4.pth", "GFPGANv1.3.pth"},
		FieldFaceDetection: {"retinaface_resnet50", "retinaface_mobile0.25", "YOLOv5l", "YOLOv5n"},
		FieldSwapModel:     {"inswapper_128"},
		"image_format":     nil,
	} {
		if got := Values(field); !slices.Equal(got, want) {
			t.Errorf("Values(%s) = %q, want %q", field, got, want)
		}
	}
}

// TestByValue: a request's value finds its model whatever its case, with
// the model's name (what "faceswap models pull" takes), family and file.
func TestByValue(t *testing.T) {
	for _, c := range []struct {
		field, value, name string
		family             Family
		file               string
	}{
		{FieldFaceDetection, "retinaface_resnet50", "retinaface_resnet50", FamilyRetinaFace, "onnx/retinaface_resnet50.onnx"},
		{FieldFaceDetection, "RetinaFace_ResNet50", "retinaface_resnet50", FamilyRetinaFace, "onnx/retinaface_resnet50.onnx"},
		{FieldFaceDetection, "retinaface_mobile0.25", "retinaface_mobile0.25", FamilyRetinaFace, "onnx/retinaface_mobile0.25.onnx"},
		{FieldFaceDetection, "YOLOv5l", "YOLOv5l", FamilyYOLOv5Face, "onnx/yolov5l-face.onnx"},
		{FieldFaceDetection, "yolov5l", "YOLOv5l", FamilyYOLOv5Face, "onnx/yolov5l-face.onnx"},
		{FieldFaceDetection, "YOLOV5N", "YOLOv5n", FamilyYOLOv5Face, "onnx/yolov5n-face.onnx"},
		{FieldFaceRestore, "gfpganv1.4.pth", "GFPGANv1.4", FamilyGFPGAN, "onnx/GFPGANv1.4.onnx"},
		{FieldFaceRestore, "CodeFormer-v0.1.0.pth", "codeformer-v0.1.0", FamilyCodeFormer, "onnx/codeformer-v0.1.0.onnx"},
		{FieldSwapModel, "inswapper_128", Inswapper, FamilyInswapper, "onnx/inswapper_128.onnx"},
	} {
		m, ok := ByValue(c.field, c.value)
		p := Paths{Home: "/h"}
		if !ok || m.Name != c.name || m.Family != c.family || p.Model(m) != p.Path(c.file) {
			t.Errorf("ByValue(%s, %q) = %+v, %v; want %s, %s, %s", c.field, c.value, m, ok, c.name, c.family, c.file)
		}
	}
	for _, c := range [][2]string{
		{FieldFaceDetection, ""}, {FieldFaceDetection, "yolov5"}, {FieldFaceDetection, "retinaface"},
		{FieldFaceDetection, "scrfd"}, {FieldFaceDetection, "det_10g"}, {FieldFaceDetection, BlazeFace},
		{FieldFaceDetection, "YOLOv5l "}, {FieldFaceRestore, "disable"}, {FieldFaceRestore, "GFPGANv1.4"},
		{FieldSwapModel, "mesh"}, {FieldSwapModel, ArcFace}, {FieldFaceRestore, "retinaface_resnet50"},
	} {
		if m, ok := ByValue(c[0], c[1]); ok {
			t.Errorf("ByValue(%s, %q) = %+v", c[0], c[1], m)
		}
	}
	if n := len(Named(FieldFaceDetection)); n != 4 {
		t.Errorf("%d named detectors, want the API's 4", n)
	}
}

// TestRegistryCopies: callers get copies.
func TestRegistryCopies(t *testing.T) {
	m, _ := Lookup(Inswapper)
	m.With[0] = "changed"
	all := All()
	all[0].Name = "changed"
	if m, _ := Lookup(Inswapper); m.With[0] != ArcFace || registry[0].Name == "changed" {
		t.Error("the registry shares its entries")
	}
}
