package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"faceswap/httpapi"
)

// openAPI checks real responses against the document the server serves.
type openAPI struct {
	doc      map[string]any
	compiler *jsonschema.Compiler
	mu       sync.Mutex
	schemas  map[string]*jsonschema.Schema // by JSON pointer
	checked  map[string]bool               // "METHOD path status type" seen, for the coverage report
}

const docURL = "file:///openapi.json"

var (
	apiOnce sync.Once
	apiDoc  *openAPI
	apiErr  error
)

func loadOpenAPI(t testing.TB) *openAPI {
	t.Helper()
	apiOnce.Do(func() {
		var doc map[string]any
		if apiErr = json.Unmarshal(httpapi.OpenAPI, &doc); apiErr != nil {
			return
		}
		raw, err := jsonschema.UnmarshalJSON(bytes.NewReader(httpapi.OpenAPI))
		if err != nil {
			apiErr = err
			return
		}
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft2020)
		if apiErr = c.AddResource(docURL, raw); apiErr != nil {
			return
		}
		apiDoc = &openAPI{doc: doc, compiler: c, schemas: map[string]*jsonschema.Schema{}, checked: map[string]bool{}}
	})
	if apiErr != nil {
		t.Fatalf("openapi.json: %v", apiErr)
	}
	return apiDoc
}

// pointer escapes a JSON pointer token.
func pointer(tokens ...string) string {
	var b strings.Builder
	for _, tok := range tokens {
		b.WriteString("/")
		b.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(tok))
	}
	return b.String()
}

// at returns the value at a JSON pointer of the document.
func (a *openAPI) at(ptr string) (any, bool) {
	var v any = a.doc
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		if ptr == "" {
			break
		}
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[tok]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// deref follows a $ref of the object at ptr and returns the pointer of
// what it names.
func (a *openAPI) deref(ptr string) string {
	for i := 0; i < 10; i++ {
		v, ok := a.at(ptr)
		if !ok {
			return ptr
		}
		m, _ := v.(map[string]any)
		ref, ok := m["$ref"].(string)
		if !ok || !strings.HasPrefix(ref, "#") {
			return ptr
		}
		ptr = strings.TrimPrefix(ref, "#")
	}
	return ptr
}

func (a *openAPI) schema(ptr string) (*jsonschema.Schema, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if s, ok := a.schemas[ptr]; ok {
		return s, nil
	}
	s, err := a.compiler.Compile(docURL + "#" + ptr)
	if err != nil {
		return nil, err
	}
	a.schemas[ptr] = s
	return s, nil
}

// check validates a response: its status must be declared for the
// operation (unknown paths and methods answer the Error schema), its
// content type declared for that status, and a JSON body must validate
// against the declared schema.
func (a *openAPI) check(t testing.TB, method, path string, r *response) {
	t.Helper()
	ctype, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	status := strconv.Itoa(r.StatusCode)
	op := pointer("paths", templatePath(path), strings.ToLower(method))
	var schemaPtr string
	if _, ok := a.at(op); !ok {
		if r.StatusCode != 404 && r.StatusCode != 405 {
			t.Errorf("%s %s: status %d for an operation the document does not have", method, path, r.StatusCode)
			return
		}
		schemaPtr = "/components/schemas/Error"
	} else {
		resp := a.deref(op + pointer("responses", status))
		if _, ok := a.at(resp); !ok {
			t.Errorf("%s %s: status %d is not declared in openapi.json", method, path, r.StatusCode)
			return
		}
		content := resp + pointer("content", ctype)
		if _, ok := a.at(content); !ok {
			t.Errorf("%s %s %d: content type %q is not declared in openapi.json", method, path, r.StatusCode, ctype)
			return
		}
		schemaPtr = content + "/schema"
	}
	a.mu.Lock()
	a.checked[fmt.Sprintf("%s %s %s %s", method, templatePath(path), status, ctype)] = true
	a.mu.Unlock()
	if ctype != "application/json" {
		return
	}
	s, err := a.schema(schemaPtr)
	if err != nil {
		t.Errorf("compiling %s: %v", schemaPtr, err)
		return
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(r.body))
	if err != nil {
		t.Errorf("%s %s %d: body is not JSON: %v", method, path, r.StatusCode, err)
		return
	}
	if err := s.Validate(inst); err != nil {
		t.Errorf("%s %s %d: body does not match %s: %v\nbody: %.300s", method, path, r.StatusCode, schemaPtr, err, r.body)
	}
}

// templatePath maps a concrete path to the document's template:
// /v2/requests/req_1/status → /v2/requests/{id}/status.
func templatePath(path string) string {
	rest, ok := strings.CutPrefix(path, "/v2/requests/")
	if !ok || rest == "" {
		return path
	}
	if id, ok := strings.CutSuffix(rest, "/status"); ok && id != "" && !strings.Contains(id, "/") {
		return "/v2/requests/{id}/status"
	}
	if !strings.Contains(rest, "/") {
		return "/v2/requests/{id}"
	}
	return path
}

// TestOpenAPIDocument: the document is OpenAPI 3.1 with the JSON Schema
// 2020-12 dialect, describes every endpoint, every $ref resolves, every
// response has a description, and every schema compiles.
func TestOpenAPIDocument(t *testing.T) {
	a := loadOpenAPI(t)
	if v, _ := a.doc["openapi"].(string); !strings.HasPrefix(v, "3.1.") {
		t.Errorf("openapi = %q, want 3.1.x", v)
	}
	if d, _ := a.doc["jsonSchemaDialect"].(string); d != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("jsonSchemaDialect = %q", d)
	}
	info, _ := a.doc["info"].(map[string]any)
	if info["title"] == nil || info["version"] == nil {
		t.Errorf("info needs title and version: %v", info)
	}
	want := map[string]string{
		"/v1/faceswap-v3-multifaceswap": "post", "/v1/faces": "post", "/v1/get-user-credits": "get",
		"/healthz": "get", "/readyz": "get", "/metrics": "get", "/openapi.json": "get", "/": "get",
		"/v2/faceswap-v3-multifaceswap": "post", "/v2/requests/{id}/status": "get", "/v2/requests/{id}": "get",
	}
	paths, _ := a.doc["paths"].(map[string]any)
	for p, m := range want {
		if _, ok := a.at(pointer("paths", p, m)); !ok {
			t.Errorf("no %s %s", m, p)
		}
	}
	if len(paths) != len(want) {
		t.Errorf("%d paths, want %d", len(paths), len(want))
	}
	// Walk everything: refs resolve, responses have descriptions, schemas compile.
	var walk func(ptr string, v any)
	walk = func(ptr string, v any) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok {
				if _, ok := a.at(strings.TrimPrefix(ref, "#")); !strings.HasPrefix(ref, "#/") || !ok {
					t.Errorf("%s: $ref %q does not resolve", ptr, ref)
				}
			}
			if s, ok := x["schema"]; ok {
				if _, isMap := s.(map[string]any); isMap {
					if _, err := a.schema(ptr + "/schema"); err != nil {
						t.Errorf("%s/schema: %v", ptr, err)
					}
				}
			}
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(ptr+pointer(k), x[k])
			}
		case []any:
			for i, e := range x {
				walk(ptr+pointer(strconv.Itoa(i)), e)
			}
		}
	}
	walk("", a.doc)
	for p := range paths {
		ops, _ := paths[p].(map[string]any)
		for m := range ops {
			resps, _ := ops[m].(map[string]any)["responses"].(map[string]any)
			if len(resps) == 0 {
				t.Errorf("%s %s has no responses", m, p)
			}
			for st := range resps {
				r, _ := a.at(a.deref(pointer("paths", p, m, "responses", st)))
				if d, _ := r.(map[string]any)["description"].(string); d == "" {
					t.Errorf("%s %s %s: no description", m, p, st)
				}
			}
		}
	}
	for name := range a.doc["components"].(map[string]any)["schemas"].(map[string]any) {
		if _, err := a.schema(pointer("components", "schemas", name)); err != nil {
			t.Errorf("schema %s: %v", name, err)
		}
	}
	// The seed's request is a valid SwapRequest; a wrong type is not.
	s, err := a.schema("/components/schemas/SwapRequest")
	if err != nil {
		t.Fatal(err)
	}
	seed := seedRequest("https://example.com/s.jpg", "https://example.com/t.jpg")
	if err := s.Validate(roundTrip(t, seed)); err != nil {
		t.Errorf("the seed request does not validate: %v", err)
	}
	if err := s.Validate(roundTrip(t, with(seed, "image_quality", "high"))); err == nil {
		t.Error("image_quality \"high\" validates")
	}
}

func roundTrip(t testing.TB, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return inst
}
