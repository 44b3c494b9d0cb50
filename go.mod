module faceswap

go 1.26.0

require (
	github.com/yalue/onnxruntime_go v1.27.0 // indirect
	golang.org/x/image v0.47.0 // indirect
)
