package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"faceswap"
	"faceswap/imageio"
	"faceswap/internal/testenv"
)

// The playground's end-to-end test drives the page at GET / in a real
// headless Chromium against a real server with the real models: the key
// field, images by drag-and-drop, file and URL, the numbered faces, click
// pairing, every request field with its default, the swap and its result,
// re-numbering, the curl and Python snippets (run for real), and the API's
// 401 message. It saves screenshots in $FACESWAP_SCREENSHOTS (or a
// temporary folder) for people to look at.

const (
	pgSource = testenv.Group3   // 3 faces, dropped on the source zone
	pgTarget = testenv.Group5   // 5 faces, chosen with the file input (1280x932)
	pgByURL  = testenv.Portrait // 1 face, fetched by the server
)

// browser starts a headless Chromium with the flags that work on a closed
// network and a fresh profile, and returns a tab's context.
func browser(t *testing.T) context.Context {
	t.Helper()
	exe := testenv.Chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1500, 1300),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	ctx, cancelTime := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(func() { cancelTime(); cancelTab(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("starting %s: %v", exe, err)
	}
	return ctx
}

// evalJS evaluates a JavaScript expression in the page.
func evalJS[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluating %.80q: %v", js, err)
	}
	return v
}

// screenshots returns where the test saves its screenshots.
func screenshots(t *testing.T) string {
	dir := os.Getenv("FACESWAP_SCREENSHOTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestPlayground(t *testing.T) {
	if testing.Short() {
		t.Skip("the browser test is slow")
	}
	testenv.Chromium(t) // before anything starts
	s := start(t, nil)
	ph := newPhotos(t)
	images := ph.dir
	key, id := s.key(faceswap.KeyOptions{Name: "browser", Credits: 6})
	ctx := browser(t)
	shots := screenshots(t)

	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			shot(t, ctx, shots, "failed")
			t.Fatalf("%s: %v", what, err)
		}
	}
	// waitFor polls a JavaScript condition (30 s at most: detection and a
	// swap take a second or two here).
	waitFor := func(what, cond string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(30*time.Second))); err != nil {
			errText, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("error").hidden ? "" : document.getElementById("error").innerText`))
			shot(t, ctx, shots, "failed")
			t.Fatalf("waiting for %s: %v (error banner: %q)", what, err, errText)
		}
	}
	text := func(sel string) string {
		t.Helper()
		return evalJS[string](t, ctx, fmt.Sprintf(`document.querySelector(%q).textContent`, sel))
	}
	fieldValue := func(name string) string {
		t.Helper()
		return evalJS[string](t, ctx, fmt.Sprintf(`document.getElementById("f-%s").value`, name))
	}
	eval := func(what, js string, out any) {
		t.Helper()
		if err := json.Unmarshal(evalJS[[]byte](t, ctx, js), out); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	void := func(js string) chromedp.Action[chromedp.Void] { return chromedp.Evaluate[chromedp.Void](js) }

	// The page, then the key: the credits appear.
	run("loading the page", chromedp.Navigate(s.url+"/"))
	waitFor("the controls", `document.body.dataset.ready === "true"`)
	run("typing the key", chromedp.SendKeys(chromedp.CSS("#key"), key))
	waitFor("the credits", `document.getElementById("credits").dataset.credits === "6"`)

	// Every field of the swap request is a control holding its default.
	checkDefaults(t, s, func(js string, out any) { eval("reading the controls", js, out) })

	// The source by drag-and-drop (a File dropped on its zone), the
	// target with the file input; their faces are numbered 0..n-1.
	run("dropping the source",
		void(`(() => { const i = document.createElement("input"); i.type = "file"; i.id = "test-drop"; i.hidden = true; document.body.append(i); })()`),
		chromedp.SetUploadFiles(chromedp.CSS("#test-drop"), []string{filepath.Join(images, pgSource)}),
		void(`(() => {
			const dt = new DataTransfer();
			dt.items.add(document.getElementById("test-drop").files[0]);
			document.getElementById("source-drop").dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));
		})()`),
	)
	run("choosing the target", chromedp.SetUploadFiles(chromedp.CSS("#target-file"), []string{filepath.Join(images, pgTarget)}))
	waitFor("both images' faces", `document.getElementById("source-panel").dataset.state === "ready" && document.getElementById("target-panel").dataset.state === "ready"`)
	for role, want := range map[string]int{"source": 3, "target": 5} {
		var labels []string
		eval("reading the face labels", fmt.Sprintf(`[...document.querySelectorAll("#%s-boxes .face .n")].map(e => e.textContent)`, role), &labels)
		if len(labels) != want {
			t.Fatalf("%s: %d numbered faces %v, want %d", role, len(labels), labels, want)
		}
		for i, l := range labels {
			if l != fmt.Sprint(i) {
				t.Errorf("%s: face label %d is %q", role, i, l)
			}
		}
	}
	if st := text("#target-status"); !strings.Contains(st, "5 faces found") || !strings.Contains(st, "1280×932") {
		t.Errorf("target status %q", st)
	}

	// Click source face 1 and target face 2: the index fields follow and
	// the pair shares a colour no other face has.
	run("clicking faces",
		chromedp.Click(chromedp.CSS(`#source-boxes .face[data-index="1"]`)),
		chromedp.Click(chromedp.CSS(`#target-boxes .face[data-index="2"]`)),
	)
	if s, i := fieldValue("source_faces_index"), fieldValue("input_faces_index"); s != "1" || i != "2" {
		t.Fatalf("after the clicks: source_faces_index %q, input_faces_index %q; want 1 and 2", s, i)
	}
	var colours map[string]string
	eval("reading the colours", `(() => {
		const out = {};
		for (const b of document.querySelectorAll(".face")) {
			const role = b.closest(".panel").dataset.role;
			out[role + b.dataset.index] = b.getAttribute("aria-pressed") === "true" ? getComputedStyle(b).borderTopColor : "";
		}
		return out;
	})()`, &colours)
	if colours["source1"] == "" || colours["source1"] != colours["target2"] {
		t.Errorf("the pair's colours differ: source 1 %q, target 2 %q", colours["source1"], colours["target2"])
	}
	for k, c := range colours {
		if k != "source1" && k != "target2" && c != "" {
			t.Errorf("face %s is marked (%s) but was not chosen", k, c)
		}
	}
	if p := text("#pairs"); !strings.Contains(p, "source 1 → target 2") {
		t.Errorf("pairs %q", p)
	}
	shot(t, ctx, shots, "1-faces")

	// Swap: a result at the target's size, the face changed and the
	// others not, the stages, the credits, a download link.
	run("swapping", chromedp.Click(chromedp.CSS("#swap")))
	waitFor("the result", `document.getElementById("result-panel").dataset.state === "done"`)
	var size []int
	eval("reading the result's size", `[document.getElementById("result-img").naturalWidth, document.getElementById("result-img").naturalHeight]`, &size)
	if len(size) != 2 || size[0] != 1280 || size[1] != 932 {
		t.Fatalf("result size %v, want the target's 1280x932", size)
	}
	if got := s.balance(id); got != 5 {
		t.Errorf("balance %d after one swap, want 5", got)
	}
	waitFor("the credits after the swap", `document.getElementById("credits").dataset.credits === "5"`)
	var stages []string
	eval("reading the timings", `[...document.querySelectorAll("#timings tbody tr td:first-child")].map(e => e.textContent)`, &stages)
	for _, want := range []string{"fetch", "decode", "detect", "swap", "encode", "total"} {
		if !contains(strings.Join(stages, " "), want) {
			t.Errorf("timings %v lack %s", stages, want)
		}
	}
	if sum := text("#result-summary"); !strings.Contains(sum, "1 face swapped") || !strings.Contains(sum, "1280×932") {
		t.Errorf("result summary %q", sum)
	}
	if !evalJS[bool](t, ctx, `document.getElementById("result-poor").hidden`) {
		t.Errorf("a pair of no concern shows the poor-face warning %q", text("#result-poor"))
	}
	var download string
	eval("reading the download link", `document.getElementById("download").download + " " + document.getElementById("download").href.slice(0, 5)`, &download)
	if !strings.HasPrefix(download, "faceswap-") || !strings.HasSuffix(download, ".jpg blob:") {
		t.Errorf("download link %q", download)
	}
	checkResultPixels(t, s, key, resultPixels(t, ctx), 2)
	run("moving the slider", chromedp.SetValue(chromedp.CSS("#compare-slider"), "12"),
		void(`document.getElementById("compare-slider").dispatchEvent(new Event("input"))`))
	shot(t, ctx, shots, "2-result")

	// Another order renumbers the faces; the chosen ones stay chosen.
	oldBox := faceBox(t, s, key, pgTarget, "large-small", 2)
	run("choosing left-right", chromedp.SetValue(chromedp.CSS("#f-detection_face_order"), "left-right"),
		void(`document.getElementById("f-detection_face_order").dispatchEvent(new Event("change"))`))
	waitFor("the renumbered faces", `document.getElementById("target-panel").dataset.state === "ready" && document.getElementById("source-panel").dataset.state === "ready" && document.getElementById("f-detection_face_order").value === "left-right"`)
	var idx int
	fmt.Sscan(fieldValue("input_faces_index"), &idx)
	if nb := faceBox(t, s, key, pgTarget, "left-right", idx); nb != oldBox {
		t.Errorf("after renumbering, input_faces_index %d is the face at %v, want the one chosen at %v", idx, nb, oldBox)
	}

	// Another pair, beyond the engine: the leftmost source woman (turned
	// to the image's left) into the target's third face from the left
	// (turned to its right; the smallest, 4 in large-small order).
	run("choosing a poor pair",
		chromedp.Click(chromedp.CSS(`#source-boxes .face[data-index="2"]`)),
		chromedp.Click(chromedp.CSS(`#target-boxes .face[data-index="3"]`)),
		chromedp.Click(chromedp.CSS(`#source-boxes .face[data-index="0"]`)),
		chromedp.Click(chromedp.CSS(`#target-boxes .face[data-index="2"]`)),
	)
	if s, i := fieldValue("source_faces_index"), fieldValue("input_faces_index"); s != "0" || i != "2" {
		t.Fatalf("after choosing the poor pair: source_faces_index %q, input_faces_index %q; want 0 and 2", s, i)
	}

	// With base64 on, the answer is JSON; the page shows its image all the
	// same, and the server's sentence on the poor face.
	run("swapping with base64", chromedp.Click(chromedp.CSS("#f-base64")), void(`document.getElementById("result-panel").dataset.state = ""`),
		chromedp.Click(chromedp.CSS("#swap")))
	waitFor("the base64 result", `document.getElementById("result-panel").dataset.state === "done"`)
	eval("reading the base64 result's size", `[document.getElementById("result-img").naturalWidth, document.getElementById("result-img").naturalHeight]`, &size)
	if len(size) != 2 || size[0] != 1280 || size[1] != 932 {
		t.Errorf("base64 result size %v, want 1280x932", size)
	}
	checkResultPixels(t, s, key, resultPixels(t, ctx), 4)
	var poor []string
	eval("reading the poor-face warning", `document.getElementById("result-poor").hidden ? [] : [...document.querySelectorAll("#result-poor-list li")].map(e => e.textContent)`, &poor)
	if len(poor) != 1 || !regexp.MustCompile(`^target face 2: source and target faces are turned \d+° apart left-right \(yaw -?\d+° and -?\d+°\) \(pose-gap\)$`).MatchString(poor[0]) {
		t.Errorf("poor-face warning %q, want target face 2's pose gap", poor)
	}
	shot(t, ctx, shots, "2-poor")
	run("base64 off", chromedp.Click(chromedp.CSS("#f-base64")))

	// Copy as curl, and run it beside the photos: a swapped image.
	dir := t.TempDir()
	for _, name := range []string{pgSource, pgTarget} {
		if err := os.Symlink(filepath.Join(images, name), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	var curl string
	run("copying as curl", chromedp.Click(chromedp.CSS("#copy-curl")))
	curl = evalJS[string](t, ctx, `document.getElementById("snippet").value`)
	testenv.Program(t, "curl", "make test's set-up installs it (scripts/test-deps.sh)")
	out := runIn(t, dir, "bash", "-c", curl)
	if strings.TrimSpace(out) != "200 image/jpeg" {
		t.Fatalf("the copied curl command printed %q\n%s", out, curl)
	}
	checkJPEG(t, filepath.Join(dir, "faceswap-result.jpg"), 1280, 932)
	if data, err := os.ReadFile(filepath.Join(dir, "faceswap-result.jpg")); err == nil {
		os.WriteFile(filepath.Join(shots, "curl-result.jpg"), data, 0o644)
	}

	// The source by URL (the server fetches it), then Python.
	run("loading the source by URL",
		chromedp.SendKeys(chromedp.CSS("#source-url"), ph.image(pgByURL)),
		chromedp.Click(chromedp.CSS("#source-url-form button")))
	waitFor("the URL source's face", `document.getElementById("source-panel").dataset.state === "ready" && document.querySelectorAll("#source-boxes .face").length === 1`)
	run("choosing its face", chromedp.Click(chromedp.CSS(`#source-boxes .face[data-index="0"]`)))
	if v := fieldValue("source_faces_index"); v != "0" {
		t.Errorf("source_faces_index %q after clicking the new source's face", v)
	}
	var python string
	run("copying as Python", chromedp.Click(chromedp.CSS("#copy-python")))
	python = evalJS[string](t, ctx, `document.getElementById("snippet").value`)
	if !strings.Contains(python, ph.image(pgByURL)) || !strings.Contains(python, `open("`+pgTarget+`", "rb")`) {
		t.Errorf("the Python snippet does not send the URL and the file:\n%s", python)
	}
	py := testenv.Program(t, "python3", "make setup installs it with python3-requests")
	out = runIn(t, dir, py, "-c", python)
	if !strings.Contains(out, "saved faceswap-result.jpg; 2 credits left") {
		t.Fatalf("the copied Python printed %q\n%s", out, python)
	}
	checkJPEG(t, filepath.Join(dir, "faceswap-result.jpg"), 1280, 932)

	// A key the server does not know: the API's 401 sentence is shown,
	// from the credits check and from a swap.
	bad := s.do("GET", "/v1/get-user-credits", "fs_not_a_key", "", nil)
	if bad.StatusCode != 401 {
		t.Fatalf("bad key: %d", bad.StatusCode)
	}
	want := bad.errorMessage(t)
	run("typing a bad key", void(`document.getElementById("key").value = ""`), chromedp.SendKeys(chromedp.CSS("#key"), "fs_not_a_key"))
	waitFor("the 401 message", fmt.Sprintf(`!document.getElementById("error").hidden && document.getElementById("error-message").textContent === %q`, want))
	run("dismissing it", chromedp.Click(chromedp.CSS("#error-close")))
	run("swapping with the bad key", chromedp.Click(chromedp.CSS("#swap")))
	waitFor("the swap's 401", fmt.Sprintf(`!document.getElementById("error").hidden && document.getElementById("error-code").textContent === "401" && document.getElementById("error-message").textContent === %q`, want))
	if got := s.balance(id); got != 2 {
		t.Errorf("balance %d at the end, want 2", got)
	}
	var stored string
	eval("reading local storage", `localStorage.getItem("faceswap.apiKey")`, &stored)
	if stored != "fs_not_a_key" {
		t.Errorf("local storage holds %q, want the key typed last", stored)
	}
	shot(t, ctx, shots, "3-error")
	t.Logf("screenshots in %s", shots)
}

// checkDefaults compares the page's controls with the SwapRequest schema
// of /openapi.json: one control per field besides the two images, holding
// the field's default.
func checkDefaults(t *testing.T, s *srv, eval func(js string, out any)) {
	t.Helper()
	props, _ := s.api.at("/components/schemas/SwapRequest/properties")
	var got map[string]string
	eval(`Object.fromEntries([...document.querySelectorAll("#fields [name]")].map(e => [e.name, e.type === "checkbox" ? String(e.checked) : e.value]))`, &got)
	n := 0
	for name, p := range props.(map[string]any) {
		if name == "source_img" || name == "target_img" {
			continue
		}
		n++
		def, ok := p.(map[string]any)["default"]
		if ref, isRef := p.(map[string]any)["$ref"].(string); !ok && isRef {
			target, _ := s.api.at(strings.TrimPrefix(ref, "#"))
			def, ok = target.(map[string]any)["default"]
		}
		want := ""
		if ok {
			want = fmt.Sprint(def)
		}
		if v, has := got[name]; !has {
			t.Errorf("no control for %s", name)
		} else if v != want {
			t.Errorf("control %s holds %q, want the default %q", name, v, want)
		}
	}
	if len(got) != n {
		t.Errorf("%d controls %v for %d fields", len(got), got, n)
	}
}

// resultPixels reads the result image the page shows, drawn on a canvas.
func resultPixels(t *testing.T, ctx context.Context) *image.NRGBA {
	t.Helper()
	dataURL, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
		const img = document.getElementById("result-img");
		const c = document.createElement("canvas");
		c.width = img.naturalWidth; c.height = img.naturalHeight;
		c.getContext("2d").drawImage(img, 0, 0);
		return c.toDataURL("image/png");
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	png, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(dataURL, "data:image/png;base64,"))
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := imageio.Decode(png, imageio.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// checkResultPixels: inside the chosen target face's box the result
// differs from the target; inside every other face's box it does not.
func checkResultPixels(t *testing.T, s *srv, key string, out *image.NRGBA, chosen int) {
	t.Helper()
	target, _, err := imageio.Decode(photo(t, pgTarget), imageio.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range s.faces(key, map[string]any{"image": b64(t, pgTarget)}) {
		d := meanDiff(out, target, f.Box)
		if i == chosen && d < 4 || i != chosen && d > 2 {
			t.Errorf("face %d: mean difference %.1f from the target (chosen: %d)", i, d, chosen)
		}
	}
}

func faceBox(t *testing.T, s *srv, key, name, order string, index int) [4]float64 {
	t.Helper()
	faces := s.faces(key, map[string]any{"image": b64(t, name), "detection_face_order": order})
	if index < 0 || index >= len(faces) {
		t.Fatalf("index %d of %d faces", index, len(faces))
	}
	return faces[index].Box
}

// runIn runs a command in dir and returns its standard output.
func runIn(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\nstdout: %s\nstderr: %s", name, err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

func checkJPEG(t *testing.T, path string, w, h int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, info, err := imageio.Decode(data, imageio.DefaultLimits)
	if err != nil {
		t.Fatalf("%s: %v (%.200q)", path, err, data)
	}
	if info.Format != "jpeg" || img.Rect.Dx() != w || img.Rect.Dy() != h {
		t.Errorf("%s: %s %v, want a %dx%d jpeg", path, info.Format, img.Rect, w, h)
	}
}

// shot saves a full-page screenshot as NAME.png.
func shot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Log(err)
	}
}
