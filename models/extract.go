package models

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"faceswap/internal/atomicfile"
)

// extract streams the gzipped tarball tgz and writes the entries pkg wants
// into p. Each file is written to a temporary name beside its destination;
// only when the whole archive has been read without fault are they renamed
// into place, so a failure (or an interruption) leaves no half file and no
// partial package. Entries with absolute names, ".." elements, and links
// are refused anywhere in the archive: npm tarballs have none.
func extract(ctx context.Context, tgz string, pkg Package, p Paths) (files []stampFile, err error) {
	want := make(map[string]string, len(pkg.Files))
	for _, f := range pkg.Files {
		want[f.From] = f.To
	}

	f, err := os.Open(tgz)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	gz, err := gzip.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", filepath.Base(tgz), err)
	}
	defer gz.Close()

	temps := map[string]string{} // destination (slash) → temporary file
	sizes := map[string]int64{}  // destination (slash) → size
	defer func() {
		if err != nil {
			for _, t := range temps {
				os.Remove(t)
			}
		}
	}()

	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", filepath.Base(tgz), err)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		name := hdr.Name
		if !safeEntry(name) {
			return nil, fmt.Errorf("unsafe entry %q in %s (absolute or with \"..\"): refusing the tarball", name, filepath.Base(tgz))
		}
		switch hdr.Typeflag {
		case tar.TypeSymlink, tar.TypeLink:
			return nil, fmt.Errorf("link entry %q -> %q in %s: refusing the tarball", name, hdr.Linkname, filepath.Base(tgz))
		}
		to, ok := want[path.Clean(name)]
		if !ok {
			continue
		}
		if hdr.Typeflag != tar.TypeReg {
			return nil, fmt.Errorf("entry %q in %s is not a regular file (type %q)", name, filepath.Base(tgz), hdr.Typeflag)
		}
		if _, dup := temps[to]; dup {
			return nil, fmt.Errorf("entry %q appears twice in %s", name, filepath.Base(tgz))
		}
		tmp, err := writeTemp(p.Path(to), tr, hdr.Size)
		if tmp != "" {
			temps[to] = tmp
		}
		if err != nil {
			return nil, fmt.Errorf("unpacking %s: %w", name, err)
		}
		sizes[to] = hdr.Size
	}

	var missing []string
	for _, f := range pkg.Files {
		if _, ok := temps[f.To]; !ok {
			missing = append(missing, f.From)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s lacks %s", filepath.Base(tgz), strings.Join(missing, ", "))
	}
	for _, f := range pkg.Files {
		if err := os.Rename(temps[f.To], p.Path(f.To)); err != nil {
			return nil, err
		}
		delete(temps, f.To)
		files = append(files, stampFile{Path: f.To, Size: sizes[f.To]})
	}
	return files, nil
}

// safeEntry reports whether a tar entry name stays inside the archive root.
func safeEntry(name string) bool {
	if name == "" || strings.HasPrefix(name, "/") || strings.Contains(name, `\`) || filepath.VolumeName(name) != "" {
		return false
	}
	for _, el := range strings.Split(name, "/") {
		if el == ".." {
			return false
		}
	}
	return true
}

// writeTemp copies size bytes from r to a new temporary file beside dst
// and returns its name.
func writeTemp(dst string, r io.Reader, size int64) (string, error) {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", err
	}
	tmp, n, err := atomicfile.Temp(dst, r, 0o644)
	if err == nil && n != size {
		os.Remove(tmp)
		return "", errors.New("short entry")
	}
	return tmp, err
}
