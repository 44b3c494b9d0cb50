// Package migrations reads a store's numbered SQL migrations (files named
// NNNN_what.sql): the SQLite and PostgreSQL stores apply them in their own
// ways, from the same kind of folder.
package migrations

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// Migration is one numbered .sql file.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Apply brings a database up to date: it refuses one whose schema is at a
// version (newest, nil for none) newer than the last of ms, as a newer
// faceswap left it, then calls apply with each migration in order (apply
// skips one the database lists as applied).
func Apply(ms []Migration, newest *int, apply func(Migration) error) error {
	if len(ms) > 0 && newest != nil && *newest > ms[len(ms)-1].Version {
		return fmt.Errorf("the database is at schema version %d, newer than this faceswap knows (%d): use a newer faceswap",
			*newest, ms[len(ms)-1].Version)
	}
	for _, m := range ms {
		if err := apply(m); err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
	}
	return nil
}

// Load reads the numbered .sql files of fsys in order. Numbers must be
// unique; gaps are allowed.
func Load(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var ms []Migration
	seen := map[int]string{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || path.Ext(name) != ".sql" {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: the name must start with a positive number and '_'", name)
		}
		if other, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %s and %s have the same number", other, name)
		}
		seen[v] = name
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: name, SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	return ms, nil
}
