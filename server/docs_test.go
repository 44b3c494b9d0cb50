package server_test

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"faceswap/internal/testenv"
	"faceswap/server"
)

// The documentation is checked against what it documents, derived from the
// code each time, so a new setting or endpoint that is not documented
// fails here: the README's configuration table against server.Settings,
// docs/api.md against /openapi.json.

func readDoc(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// markdownSection returns the text under heading (a whole line) up to the
// next heading of the same or a higher level.
func markdownSection(t *testing.T, doc, heading string) string {
	t.Helper()
	level := len(heading) - len(strings.TrimLeft(heading, "#"))
	lines := strings.Split(doc, "\n")
	for i, l := range lines {
		if strings.TrimSpace(l) != heading {
			continue
		}
		var out []string
		for _, m := range lines[i+1:] {
			if n := len(m) - len(strings.TrimLeft(m, "#")); n > 0 && n <= level && strings.HasPrefix(m[n:], " ") {
				break
			}
			out = append(out, m)
		}
		return strings.Join(out, "\n")
	}
	t.Fatalf("no heading %q", heading)
	return ""
}

// TestREADMESettings: the README's configuration table has one row per
// setting of server.Settings, with its flag, and every default it writes
// as a literal is the built-in default (read by the setting itself, so
// "60s" and "1m0s" agree); it documents nothing that is not a setting.
func TestREADMESettings(t *testing.T) {
	table := markdownSection(t, readDoc(t, "README.md"), "### Configuration")
	byEnv := map[string]server.Setting{}
	for _, s := range server.Settings {
		byEnv[s.Env] = s
	}
	seen := map[string]bool{}
	literal := regexp.MustCompile("^`([^`]*)`")
	for _, line := range strings.Split(table, "\n") {
		if !strings.HasPrefix(line, "| `FACESWAP_") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) < 4 {
			t.Errorf("row %q: want | variable | flag | default | meaning |", line)
			continue
		}
		env := strings.Trim(cells[0], "`")
		s, ok := byEnv[env]
		switch {
		case !ok:
			t.Errorf("the README documents %s, which is not a setting", env)
			continue
		case seen[env]:
			t.Errorf("%s has two rows", env)
		}
		seen[env] = true
		if want := "`--" + s.Flag + "`"; cells[1] != want {
			t.Errorf("%s: flag %s, want %s", env, cells[1], want)
		}
		if m := literal.FindStringSubmatch(cells[2]); m != nil && !strings.ContainsAny(m[1], "$~") {
			def := server.Defaults()
			c := def
			if err := s.Set(&c, m[1]); err != nil {
				t.Errorf("%s: the README's default %q does not parse: %v", env, m[1], err)
			} else if got, want := s.Get(&c), s.Get(&def); got != want {
				t.Errorf("%s: the README's default %q is %q, the built-in one %q", env, m[1], got, want)
			}
		}
		if strings.TrimSpace(cells[3]) == "" {
			t.Errorf("%s: no meaning", env)
		}
	}
	var missing []string
	for _, s := range server.Settings {
		if !seen[s.Env] {
			missing = append(missing, s.Env)
		}
	}
	if len(missing) > 0 {
		t.Errorf("settings missing from the README's configuration table: %s", strings.Join(missing, ", "))
	}
}

var operationHeading = regexp.MustCompile("^(#{2,4}) `(GET|POST|PUT|PATCH|DELETE) (\\S+)`\\s*$")

// apiSections splits docs/api.md into its operation sections, keyed
// "METHOD path".
func apiSections(doc string) map[string]string {
	out := map[string]string{}
	var key string
	var body []string
	flush := func() {
		if key != "" {
			out[key] = strings.Join(body, "\n")
		}
	}
	for _, l := range strings.Split(doc, "\n") {
		if m := operationHeading.FindStringSubmatch(l); m != nil {
			flush()
			key, body = m[2]+" "+m[3], nil
			continue
		}
		if strings.HasPrefix(l, "## ") || strings.HasPrefix(l, "# ") {
			flush()
			key, body = "", nil
			continue
		}
		body = append(body, l)
	}
	flush()
	return out
}

// TestAPIDocMatchesOpenAPI: every operation of /openapi.json has a section
// in docs/api.md (and no section documents an operation it lacks); each
// names, in backquotes, every status the operation declares, every field
// of its request bodies, every enum value of its JSON request, and every
// field of its JSON answers; every response header it declares appears in
// the document.
func TestAPIDocMatchesOpenAPI(t *testing.T) {
	a := loadOpenAPI(t)
	doc := readDoc(t, "docs/api.md")
	sections := apiSections(doc)
	paths, _ := a.doc["paths"].(map[string]any)
	documented := map[string]bool{}
	var ops []string
	for p, v := range paths {
		for m := range v.(map[string]any) {
			ops = append(ops, strings.ToUpper(m)+" "+p)
		}
	}
	sort.Strings(ops)
	for _, op := range ops {
		documented[op] = true
		sec, ok := sections[op]
		if !ok {
			t.Errorf("docs/api.md has no section \"`%s`\"", op)
			continue
		}
		method, path, _ := strings.Cut(op, " ")
		ptr := pointer("paths", path, strings.ToLower(method))
		need := func(what, name string) {
			if !strings.Contains(sec, "`"+name+"`") {
				t.Errorf("%s: docs/api.md does not name %s `%s`", op, what, name)
			}
		}
		resps, _ := a.at(ptr + "/responses")
		for status := range resps.(map[string]any) {
			need("the status", status)
			resp := a.deref(ptr + pointer("responses", status))
			if hs, ok := a.at(resp + "/headers"); ok && strings.HasPrefix(status, "2") {
				for h := range hs.(map[string]any) {
					if !strings.Contains(doc, "`"+h+"`") {
						t.Errorf("%s %s: docs/api.md does not name the header `%s`", op, status, h)
					}
				}
			}
			if _, ok := a.at(resp + "/content/application~1json/schema"); ok && strings.HasPrefix(status, "2") && path != "/openapi.json" {
				for _, f := range a.fields(resp+"/content/application~1json/schema", false) {
					need("the answer field", f)
				}
			}
		}
		if content, ok := a.at(ptr + "/requestBody/content"); ok {
			for ct := range content.(map[string]any) {
				for _, f := range a.fields(ptr+pointer("requestBody", "content", ct, "schema"), ct == "application/json") {
					need("the request field or value", f)
				}
			}
		}
	}
	for op := range sections {
		if !documented[op] {
			t.Errorf("docs/api.md documents %s, which /openapi.json does not have", op)
		}
	}
}

// fields lists the property names of the schema at ptr, through $refs,
// arrays and nested objects, and with enums also their values.
func (a *openAPI) fields(ptr string, enums bool) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(ptr string)
	walk = func(ptr string) {
		ptr = a.deref(ptr)
		if seen[ptr] {
			return
		}
		seen[ptr] = true
		v, _ := a.at(ptr)
		s, _ := v.(map[string]any)
		if enums {
			if e, ok := s["enum"].([]any); ok {
				for _, x := range e {
					if str, ok := x.(string); ok && str != "" {
						out = append(out, str)
					}
				}
			}
		}
		if props, ok := s["properties"].(map[string]any); ok {
			for name := range props {
				out = append(out, name)
				walk(ptr + pointer("properties", name))
			}
		}
		if _, ok := s["items"]; ok {
			walk(ptr + "/items")
		}
	}
	walk(ptr)
	sort.Strings(out)
	return out
}
