package onnxfile

import (
	"bytes"
	"reflect"
	"testing"
)

// FuzzRead feeds arbitrary bytes to the readers, which parse model files
// users import. Neither may panic; when Read accepts the input, writing
// the model and reading it back must be stable, and when both readers
// accept it they must agree on every initializer.
func FuzzRead(f *testing.F) {
	seeds := [][]byte{
		sampleModel().Marshal(),
		runnableModel().Marshal(),
		(&Model{IRVersion: 8}).Marshal(),
		{},
	}
	for _, s := range seeds[:2] {
		seeds = append(seeds, s[:len(s)/2], s[:len(s)-1])
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Read(data)
		inits, err2 := ReadInitializers(bytes.NewReader(data), int64(len(data)))
		if err2 == nil {
			for i := range inits {
				tt, err := inits[i].Load()
				if err == nil {
					tt.Float32s()
				}
			}
		}
		// the streaming interface reader agrees with Read on what it reads
		gio, err3 := ReadGraphIO(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		if err3 == nil && len(gio.Outputs) != len(m.Graph.Outputs) {
			t.Fatalf("ReadGraphIO found %d outputs, Read %d", len(gio.Outputs), len(m.Graph.Outputs))
		}
		for _, tt := range m.Graph.Initializers {
			tt.Float32s()
		}
		b1 := m.Marshal()
		m2, err := Read(b1)
		if err != nil {
			t.Fatalf("the writer's output does not read back: %v", err)
		}
		if b2 := m2.Marshal(); !bytes.Equal(b1, b2) {
			t.Fatalf("write(read(write(m))) differs from write(m)")
		}
		if err2 != nil {
			return
		}
		if len(inits) != len(m.Graph.Initializers) {
			t.Fatalf("ReadInitializers finds %d initializers, Read %d", len(inits), len(m.Graph.Initializers))
		}
		for i := range inits {
			w := m.Graph.Initializers[i]
			if inits[i].Name != w.Name || inits[i].Type != w.Type || !reflect.DeepEqual(inits[i].Dims, w.Dims) || inits[i].External != w.External {
				t.Fatalf("initializer %d: %q %s %v, Read says %q %s %v", i, inits[i].Name, inits[i].Type, inits[i].Dims, w.Name, w.Type, w.Dims)
			}
			lt, err := inits[i].Load()
			if err != nil {
				t.Fatalf("initializer %d does not load: %v", i, err)
			}
			if !bytes.Equal(lt.Marshal(), w.Marshal()) {
				t.Fatalf("initializer %d loads differently from Read", i)
			}
		}
	})
}
