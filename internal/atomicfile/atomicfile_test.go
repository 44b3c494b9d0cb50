package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.bin")
	if err := Write(p, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Write(p, []byte("two"), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil || string(b) != "two" {
		t.Fatalf("%q %v", b, err)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", st.Mode())
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}
	if err := Write(filepath.Join(dir, "no", "such", "dir"), nil, 0o644); err == nil {
		t.Error("writing into a missing folder succeeded")
	}
}

type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, errors.New("read failed")
	}
	k := min(len(p), r.n)
	r.n -= k
	return k, nil
}

func TestTempAndCopy(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.bin")
	tmp, n, err := Temp(p, strings.NewReader("twelve bytes"), 0o640)
	if err != nil || n != 12 {
		t.Fatalf("Temp: %d bytes, %v", n, err)
	}
	if filepath.Dir(tmp) != dir || tmp == p {
		t.Errorf("temporary file %s, want one beside %s", tmp, p)
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Errorf("Temp made the target: %v", err)
	}
	if st, err := os.Stat(tmp); err != nil || st.Mode().Perm() != 0o640 || st.Size() != 12 {
		t.Errorf("temporary file: %v %v", st, err)
	}
	os.Remove(tmp)

	if n, err := Copy(p, strings.NewReader("abc"), 0o644); err != nil || n != 3 {
		t.Fatalf("Copy: %d bytes, %v", n, err)
	}
	if _, err := Copy(p, &failingReader{n: 5000}, 0o644); err == nil || !strings.Contains(err.Error(), "read failed") {
		t.Errorf("Copy from a failing reader: %v", err)
	}
	if b, err := os.ReadFile(p); err != nil || string(b) != "abc" {
		t.Errorf("a failed Copy changed the target: %q %v", b, err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}
}
