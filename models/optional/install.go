package optional

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"faceswap"
	"faceswap/internal/atomicfile"
	"faceswap/models"
	"faceswap/onnxfile"
)

// Import installs the ONNX file the user has as the optional model name:
// it checks that the file fits the model's role (Fit), copies it into the
// models folder under a temporary name and renames it into place, and
// records its sha256, noting whether it is the published file. A file that
// does not fit is refused with a 400 wrapping ErrMismatch.
func (o *Manifest) Import(p models.Paths, name, file string) (Status, error) {
	m, err := o.Lookup(name)
	if err != nil {
		return Status{}, err
	}
	src, err := os.Open(file)
	if err != nil {
		return Status{}, faceswap.Wrap(http.StatusBadRequest, err, "cannot import %s for model %s: the file cannot be opened", file, m.Name)
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return Status{}, err
	}
	if !fi.Mode().IsRegular() || fi.Size() == 0 {
		return Status{}, faceswap.Errorf(http.StatusBadRequest, "cannot import %s for model %s: not a regular, non-empty file", file, m.Name)
	}
	g, err := onnxfile.ReadGraphIO(src, fi.Size())
	if err != nil {
		return Status{}, o.misfit(m, file, "it is not a readable ONNX model: %v", err)
	}
	if err := o.fit(m, file, g); err != nil {
		return Status{}, err
	}
	dst := File(p, m)
	var sum string
	if di, err := os.Stat(dst); err == nil && os.SameFile(fi, di) {
		// Importing the installed file itself: check and record it.
		if sum, err = fileSHA256(dst); err != nil {
			return Status{}, err
		}
	} else {
		if _, err := src.Seek(0, io.SeekStart); err != nil {
			return Status{}, err
		}
		if sum, err = copyInto(dst, src); err != nil {
			return Status{}, fmt.Errorf("import model %s: %w", m.Name, err)
		}
	}
	abs, _ := filepath.Abs(file)
	if err := o.record(p, m, sum, "import "+abs); err != nil {
		return Status{}, err
	}
	os.Remove(partFile(p, m))
	return o.status(p, m), nil
}

// copyInto copies r to dst atomically, returning the sha256 of what it
// wrote.
func copyInto(dst string, r io.Reader) (string, error) {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", err
	}
	h := sha256.New()
	if _, err := atomicfile.Copy(dst, io.TeeReader(r, h), 0o644); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// record writes m's install record for the file now in place.
func (o *Manifest) record(p models.Paths, m Model, sum, source string) error {
	fi, err := os.Stat(File(p, m))
	if err != nil {
		return err
	}
	return writeRecord(p, m, &record{
		Name: m.Name, File: m.File, Size: fi.Size(), Mtime: fi.ModTime(),
		SHA256: sum, Published: m.SHA256 != "" && sum == m.SHA256,
		Source: source, Installed: time.Now().UTC().Truncate(time.Second),
	})
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Verify re-checks every installed optional model by reading it: its
// sha256 against the one recorded at install (and the published one), and
// its inputs and outputs against its role. A file that passes gets a fresh
// install record (so one put there by hand becomes verified); one that
// changed since it was installed, or does not fit, is reported damaged.
// It returns the status of every model, and when any is damaged a 404
// wrapping ErrDamaged that names them and says how to reinstall.
func (o *Manifest) Verify(p models.Paths) ([]Status, error) {
	out := o.List(p)
	var damaged []string
	for i := range out {
		s := &out[i]
		if !s.Installed {
			continue
		}
		if problem := o.verifyOne(p, s); problem != "" {
			s.Verified, s.Published, s.Problem = false, false, problem
			damaged = append(damaged, fmt.Sprintf("%s (%s): %s", s.Name, problem, s.InstallHint()))
		}
	}
	switch len(damaged) {
	case 0:
		return out, nil
	case 1:
		return out, faceswap.Wrap(http.StatusNotFound, ErrDamaged, "model %s", damaged[0])
	}
	return out, faceswap.Wrap(http.StatusNotFound, ErrDamaged, "%d models damaged: %s", len(damaged), strings.Join(damaged, "; "))
}

// verifyOne checks one installed model, refreshes its record when it is
// good, and returns what is wrong otherwise.
func (o *Manifest) verifyOne(p models.Paths, s *Status) string {
	m := s.Model
	fi, err := os.Stat(s.Path)
	if err != nil {
		return err.Error()
	}
	if !fi.Mode().IsRegular() || fi.Size() == 0 {
		return "not a regular, non-empty file"
	}
	sum, err := fileSHA256(s.Path)
	if err != nil {
		return err.Error()
	}
	rec, rerr := readRecord(recordFile(p, m))
	if rerr == nil && rec.SHA256 != sum {
		return fmt.Sprintf("its sha256 is %s, at install it was %s: the file changed", sum, rec.SHA256)
	}
	if err := o.fitFile(m, s.Path); err != nil {
		return faceswap.PublicMessage(err)
	}
	source := "found in the models folder"
	if rerr == nil {
		source = rec.Source
	}
	if err := o.record(p, m, sum, source); err != nil {
		return "cannot write its install record: " + err.Error()
	}
	*s = o.status(p, m)
	return ""
}
