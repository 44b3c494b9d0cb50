package tfjs

import (
	"math"
	"testing"
)

// FuzzWeights feeds a manifest and arbitrary weight bytes (a shard of a
// user's model folder) to the weights reader: decoding every weight, then
// converting the graph with those weights, must not panic; a decoded
// weight has exactly its shape's element count, and a float16 or plain
// float32 weight holds the stored bits.
func FuzzWeights(f *testing.F) {
	f.Add([]byte(tinyManifest), []byte{0x00, 0x3c})
	synth := buildSynthetic()
	f.Add(synth.manifest(), synth.bin)
	elementwise, _ := buildElementwise()
	f.Add(elementwise.manifest(), elementwise.bin)
	f.Add([]byte(weightsJSON(`{"name": "s", "shape": [4], "dtype": "int32", "quantization": {"dtype": "uint16", "min": -1e9, "scale": 1e9}}`)),
		[]byte{0xff, 0xff, 0, 0, 1, 0, 0xff, 0x7f})
	f.Fuzz(func(t *testing.T, manifest, data []byte) {
		m, err := ParseManifest(manifest)
		if err != nil || m.WeightBytes() > 1<<16 {
			return
		}
		if err := m.SetWeights(data); err != nil {
			if int64(len(data)) >= m.WeightBytes() {
				t.Fatalf("%d bytes refused for %d needed: %v", len(data), m.WeightBytes(), err)
			}
			return
		}
		for name, w := range m.weights {
			tt, err := m.decodeWeight(name)
			if err != nil {
				continue
			}
			if int64(tt.len()) != elements(w.Shape) {
				t.Fatalf("%s: %d elements for shape %v", name, tt.len(), w.Shape)
			}
			if w.DType == "float32" && !tt.isInt && w.Quantization == nil && len(tt.f) > 0 {
				b := data[w.Offset:]
				bits := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
				if math.Float32bits(tt.f[0]) != bits {
					t.Fatalf("%s: first value %x, stored %x", name, math.Float32bits(tt.f[0]), bits)
				}
			}
		}
		m.ToONNX()
	})
}
