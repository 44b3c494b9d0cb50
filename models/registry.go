package models

import (
	"slices"
	"strings"
)

// Role is what a model does in a swap.
type Role string

// The roles.
const (
	RoleDetector  Role = "detector"  // finds faces: boxes and landmarks
	RoleMesh      Role = "mesh"      // the 468-point face mesh
	RoleAttribute Role = "attribute" // gender and age
	RoleSwapper   Role = "swapper"   // the neural swapper
	RoleArcFace   Role = "arcface"   // the identity embedding the swapper takes
	RoleRestorer  Role = "restorer"  // face restoration
)

// Family is a model architecture: how a model is fed and its outputs read.
// Every model of a family is loaded by the same code.
type Family string

// The families.
const (
	FamilyBlazeFace  Family = "BlazeFace"
	FamilyFaceMesh   Family = "FaceMesh"
	FamilyFaceRes    Family = "FaceRes"
	FamilyRetinaFace Family = "RetinaFace"
	FamilyYOLOv5Face Family = "YOLOv5-face"
	FamilySCRFD      Family = "SCRFD"
	FamilyInswapper  Family = "inswapper"
	FamilyArcFace    Family = "ArcFace"
	FamilyGFPGAN     Family = "GFPGAN"
	FamilyCodeFormer Family = "CodeFormer"
)

// Model is one model the product runs.
type Model struct {
	// Name is the model's name: the one "faceswap models pull|import|rm"
	// take, e.g. "GFPGANv1.4".
	Name   string
	Role   Role
	Family Family
	// File is its file in the models folder's onnx/ (Paths.Model).
	File string
	// Optional is set for a model installed on demand with "faceswap
	// models" (models/optional has where to download it); the others are
	// made by the set-up.
	Optional bool
	// Value is how a request names the model in the field its role has
	// (FieldOf), e.g. face_restore "GFPGANv1.4.pth"; "" when no request
	// names it.
	Value string
	// With names the models it runs with, e.g. the swapper's ArcFace.
	With []string
}

// The models code asks for by name.
const (
	BlazeFace = "blazeface-back" // the analysis's face detector
	FaceMesh  = "facemesh"
	FaceRes   = "faceres"
	Iris      = "iris"
	Inswapper = "inswapper_128"
	ArcFace   = "w600k_r50" // the identity embedding Inswapper takes
)

// registry is every model, in the order "faceswap models list" shows the
// optional ones; the models a request field names are in the order the API
// lists its values.
var registry = []Model{
	{Name: BlazeFace, Role: RoleDetector, Family: FamilyBlazeFace, File: BlazeFace + ".onnx"},
	{Name: FaceMesh, Role: RoleMesh, Family: FamilyFaceMesh, File: FaceMesh + ".onnx"},
	{Name: FaceRes, Role: RoleAttribute, Family: FamilyFaceRes, File: FaceRes + ".onnx"},
	{Name: Inswapper, Role: RoleSwapper, Family: FamilyInswapper, File: "inswapper_128.onnx", Optional: true,
		Value: Inswapper, With: []string{ArcFace}},
	{Name: ArcFace, Role: RoleArcFace, Family: FamilyArcFace, File: "w600k_r50.onnx", Optional: true},
	{Name: "det_10g", Role: RoleDetector, Family: FamilySCRFD, File: "det_10g.onnx", Optional: true},
	{Name: "codeformer-v0.1.0", Role: RoleRestorer, Family: FamilyCodeFormer, File: "codeformer-v0.1.0.onnx", Optional: true,
		Value: "codeformer-v0.1.0.pth"},
	{Name: "GFPGANv1.4", Role: RoleRestorer, Family: FamilyGFPGAN, File: "GFPGANv1.4.onnx", Optional: true, Value: "GFPGANv1.4.pth"},
	{Name: "GFPGANv1.3", Role: RoleRestorer, Family: FamilyGFPGAN, File: "GFPGANv1.3.onnx", Optional: true, Value: "GFPGANv1.3.pth"},
	{Name: "retinaface_resnet50", Role: RoleDetector, Family: FamilyRetinaFace, File: "retinaface_resnet50.onnx", Optional: true,
		Value: "retinaface_resnet50"},
	{Name: "retinaface_mobile0.25", Role: RoleDetector, Family: FamilyRetinaFace, File: "retinaface_mobile0.25.onnx", Optional: true,
		Value: "retinaface_mobile0.25"},
	{Name: "YOLOv5l", Role: RoleDetector, Family: FamilyYOLOv5Face, File: "yolov5l-face.onnx", Optional: true, Value: "YOLOv5l"},
	{Name: "YOLOv5n", Role: RoleDetector, Family: FamilyYOLOv5Face, File: "yolov5n-face.onnx", Optional: true, Value: "YOLOv5n"},
}

// The request fields whose values name models.
const (
	FieldFaceRestore   = "face_restore"
	FieldFaceDetection = "facedetection"
	FieldSwapModel     = "swap_model"
)

// NoRestore is the face_restore value that restores nothing, its default.
const NoRestore = "disable"

// fieldRoles gives the role of the models each field names.
var fieldRoles = map[string]Role{
	FieldFaceRestore:   RoleRestorer,
	FieldFaceDetection: RoleDetector,
	FieldSwapModel:     RoleSwapper,
}

// All returns every model, in the registry's order.
func All() []Model {
	out := slices.Clone(registry)
	for i := range out {
		out[i].With = slices.Clone(out[i].With)
	}
	return out
}

// Lookup returns the model called name, matched without regard to case.
func Lookup(name string) (Model, bool) {
	for _, m := range registry {
		if strings.EqualFold(m.Name, name) {
			m.With = slices.Clone(m.With)
			return m, true
		}
	}
	return Model{}, false
}

// FieldOf returns the request field that names m ("" for none).
func FieldOf(m Model) string {
	if m.Value == "" {
		return ""
	}
	for f, r := range fieldRoles {
		if r == m.Role {
			return f
		}
	}
	return ""
}

// Named returns the models a request field names, in the order the API
// lists them.
func Named(field string) []Model {
	var out []Model
	for _, m := range registry {
		if m.Value != "" && FieldOf(m) == field {
			m.With = slices.Clone(m.With)
			out = append(out, m)
		}
	}
	return out
}

// Values returns the values of a request field that names models, in the
// order the API lists them, its default first: face_restore's are
// NoRestore and the restorers', facedetection's the detectors the API
// names, swap_model's the neural swappers' (the field also takes "auto"
// and the built-in engine, which need no model file).
func Values(field string) []string {
	var out []string
	if field == FieldFaceRestore {
		out = append(out, NoRestore)
	}
	for _, m := range Named(field) {
		out = append(out, m.Value)
	}
	return out
}

// ByValue returns the model value names in a request field, matched
// without regard to case, as the API matches its values.
func ByValue(field, value string) (Model, bool) {
	for _, m := range Named(field) {
		if strings.EqualFold(m.Value, value) {
			return m, true
		}
	}
	return Model{}, false
}

// Model returns the file of m in the folder (onnx/FILE).
func (p Paths) Model(m Model) string { return p.Path("onnx/" + m.File) }
