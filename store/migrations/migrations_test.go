package migrations

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoadAndApply(t *testing.T) {
	ms, err := Load(fstest.MapFS{
		"0002_b.sql": {Data: []byte("B")},
		"0001_a.sql": {Data: []byte("A")},
		"0005_c.sql": {Data: []byte("C")},
		"README":     {Data: []byte("not a migration")},
	})
	if err != nil || len(ms) != 3 || ms[0].Name != "0001_a.sql" || ms[2].Version != 5 || ms[1].SQL != "B" {
		t.Fatalf("Load: %+v %v", ms, err)
	}
	var ran []string
	apply := func(m Migration) error { ran = append(ran, m.Name); return nil }
	if err := Apply(ms, nil, apply); err != nil || strings.Join(ran, " ") != "0001_a.sql 0002_b.sql 0005_c.sql" {
		t.Errorf("a new database: ran %v, %v", ran, err)
	}
	ran = nil
	five, six := 5, 6
	if err := Apply(ms, &five, apply); err != nil || len(ran) != 3 {
		t.Errorf("an up-to-date database: ran %v, %v (apply skips what is applied)", ran, err)
	}
	ran = nil
	if err := Apply(ms, &six, apply); err == nil || !strings.Contains(err.Error(), "newer") || ran != nil {
		t.Errorf("a newer database: ran %v, %v; want a refusal and nothing run", ran, err)
	}
	boom := errors.New("boom")
	err = Apply(ms, nil, func(m Migration) error {
		if m.Version == 2 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "0002_b.sql") {
		t.Errorf("a failing migration: %v, want its error naming it", err)
	}
	if _, err := Load(fstest.MapFS{"1_a.sql": {}, "01_b.sql": {}}); err == nil {
		t.Error("two migrations numbered 1 loaded")
	}
}
