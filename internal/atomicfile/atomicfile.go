// Package atomicfile writes files so that a reader never sees a partial
// one: the data goes to a temporary file beside the target, is synced, and
// is renamed into place.
package atomicfile

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
)

// Write writes data to path atomically with the given permissions.
func Write(path string, data []byte, perm os.FileMode) error {
	_, err := Copy(path, bytes.NewReader(data), perm)
	return err
}

// Copy writes what r gives to path atomically with the given permissions
// and returns the bytes written.
func Copy(path string, r io.Reader, perm os.FileMode) (int64, error) {
	tmp, n, err := Temp(path, r, perm)
	if err != nil {
		return n, err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return n, err
	}
	return n, nil
}

// Temp copies what r gives to a new temporary file beside path (in path's
// folder, which must exist), synced and with the given permissions, and
// returns its name and the bytes written, for the caller to rename into
// place: several files can so be replaced together once all are written.
// On an error the temporary file is removed.
func Temp(path string, r io.Reader, perm os.FileMode) (tmp string, n int64, err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return "", 0, err
	}
	n, err = io.Copy(f, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), perm)
	}
	if err != nil {
		os.Remove(f.Name())
		return "", n, err
	}
	return f.Name(), n, nil
}
