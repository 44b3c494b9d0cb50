package tfjs

import (
	"testing"

	"faceswap/onnx"
)

// BenchmarkRun measures one single-threaded ONNX Runtime run of each
// converted model (batch 1).
func BenchmarkRun(b *testing.B) {
	rt := runtime(b)
	for _, gm := range goldenModels {
		b.Run(gm.name, func(b *testing.B) {
			path := modelPath(b, gm.name)
			m, err := Load(path)
			if err != nil {
				b.Fatal(err)
			}
			data, err := m.ToONNX()
			if err != nil {
				b.Fatal(err)
			}
			ins, err := m.Inputs()
			if err != nil {
				b.Fatal(err)
			}
			shape := placeholderShape(b, m, ins[0].Node)
			shape[0] = 1
			in := onnx.NewTensor(shape...)
			for i := range in.Data {
				in.Data[i] = float32(i%255) / 255
			}
			s, err := rt.LoadBytes(gm.name, data)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			feed := map[string]onnx.Tensor{ins[0].Name: in}
			if _, err := s.Run(feed); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := s.Run(feed); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
