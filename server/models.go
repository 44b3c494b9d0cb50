package server

import (
	"faceswap/models"
	"faceswap/onnx"
)

// ORTConfig is the ONNX Runtime configuration of c.
func (c Config) ORTConfig() onnx.Config {
	lib := c.ORTLibrary
	if lib == "" {
		lib = models.Paths{Home: c.Home}.ORTLibrary()
	}
	return onnx.Config{LibraryPath: lib, IntraOpThreads: c.ORTThreads, Provider: c.ORTProvider}
}
