package selection

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"faceswap"
)

// FuzzParseIndices feeds arbitrary index lists (input_faces_index and
// source_faces_index come straight from requests): no panic; an accepted
// list has 1-64 indices within 0-9999 that print back to an equivalent
// list; a refused one is a 400 naming the field.
func FuzzParseIndices(f *testing.F) {
	for _, s := range []string{"", "0", "0,1,2", " 3 , 4 ", "1,,2", "-1", "+1", "01", "9999", "10000",
		"1e3", "0x10", "٣", "0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32",
		strings.Repeat("1,", 64) + "1", "\t0\n", "0;1", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		idx, err := ParseIndices("input_faces_index", s)
		if err != nil {
			fe, ok := err.(*faceswap.Error)
			if !ok || fe.Status != http.StatusBadRequest || !strings.Contains(fe.Message, "input_faces_index") {
				t.Fatalf("%q: error %v is not a 400 naming the field", s, err)
			}
			if idx != nil {
				t.Fatalf("%q: indices with an error", s)
			}
			return
		}
		if len(idx) < 1 || len(idx) > 64 {
			t.Fatalf("%q: %d indices", s, len(idx))
		}
		parts := make([]string, len(idx))
		for i, n := range idx {
			if n < 0 || n > 9999 {
				t.Fatalf("%q: index %d", s, n)
			}
			parts[i] = strconv.Itoa(n)
		}
		again, err := ParseIndices("input_faces_index", strings.Join(parts, ","))
		if err != nil || len(again) != len(idx) {
			t.Fatalf("%q: printed back as %q, parsed as %v, %v", s, strings.Join(parts, ","), again, err)
		}
		for i := range idx {
			if again[i] != idx[i] {
				t.Fatalf("%q: %v then %v", s, idx, again)
			}
		}
	})
}
