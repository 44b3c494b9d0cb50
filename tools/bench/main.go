// Command bench is `make bench`: in one run on one machine it measures the
// real server (bin/faceswap serve, in a process of its own) and, for every
// request, the floor that request cannot go below, and writes the figures to
// BENCHMARKS.json and to the generated section of BENCHMARKS.md.
//
// Requests (each answered as jpeg, png and webp, quality 95, other fields at
// their defaults, images sent as base64 in JSON like the hosted API's
// clients do):
//
//	R1  the seed-shaped request: the Apollo crew (3 faces) into the 1280×853
//	    office photo, 0,1,2 → 0,1,2
//	R2  a portrait into the 5 faces of the office photo, one source index
//	R3  a portrait into the 8 small faces of the class photo
//	R4  a large face into a large face: two 1280×1920 JPEG portraits
//	    (the shared hard/ photos of a woman in dim light and of a woman
//	    smiling, enlarged twice and cut to 1280×1920), faces 650–750 px
//	    wide; answered as jpeg only. Its swap stage is held against R1's.
//
// Measures: time from process start to the first 200 of /readyz (models
// cached); p50/p95 latency per request with one in flight; throughput of
// R1 with 1 and with 2 workers (closed loop, twice as many clients as
// workers); peak RSS with 8 requests in flight (8 clients, every request
// mixed); and the floor of each request, in this process with nothing else
// running: decoding both inputs, the very model runs the request made
// (recorded through the runtime's onnx.Config.Observe and replayed, ONNX
// Runtime's own time only), and encoding the output. The ratio is
// end-to-end p50 / floor.
//
// With -profile DIR it instead serves in this process and writes CPU and
// allocation profiles of -n R1 requests (see BENCHMARKS.md for reading them).
package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	xdraw "golang.org/x/image/draw"

	"faceswap"
	"faceswap/analysis"
	"faceswap/imageio"
	"faceswap/models"
	"faceswap/onnx"
	"faceswap/pipeline"
	"faceswap/server"
	"faceswap/tools/internal/serverproc"
	"faceswap/tools/internal/shared"
	"faceswap/tools/internal/stats"
)

// A request shape of the benchmark.
type shape struct {
	Name, Source, Target, Input, SourceIdx, About string
	Faces                                         int
	// Large: both photos are enlarged twice and cut to 1280×1920 around
	// their centre (largePortrait), and only jpeg is asked for.
	Large bool
}

var shapes = []shape{
	{"R1", "group3_apollo11_crew.jpg", "group5_office_meeting.jpg", "0,1,2", "0,1,2",
		"seed-shaped: 3 faces (600×471 JPEG) into 3 of the 1280×853 JPEG office photo", 3, false},
	{"R2", "portrait_woman_frontal_smiling.png", "group5_office_meeting.jpg", "0,1,2,3,4", "0",
		"a 698×790 PNG portrait into the 5 faces of the office photo, one source index", 5, false},
	{"R3", "portrait_man_frontal_luciano.png", "group8_nasa_astronaut_class_2013.png", "0,1,2,3,4,5,6,7", "0",
		"a 400×400 PNG portrait into the 8 small faces (26-30 px) of the 416×290 PNG class photo", 8, false},
	{"R4", "hard/windblown_hair_woman_smile_teeth.jpg", "hard/dim_warm_indoor_light_woman.jpg", "0", "0",
		"a 1280×1920 JPEG portrait (face ~700 px) into another (face ~750 px), both made from 1000×1000 photos enlarged twice", 1, true},
}

var formats = []string{"jpeg", "png", "webp"}

// variant is one request shape with one output format.
type variant struct {
	shape
	Format   string
	src, dst []byte
	body     []byte
}

func (v *variant) id() string { return v.Name + "-" + v.Format }

// Report is BENCHMARKS.json.
type Report struct {
	Date       string         `json:"date"`
	Commit     string         `json:"commit"`
	Machine    Machine        `json:"machine"`
	LoadBefore string         `json:"load_before"`
	LoadAfter  string         `json:"load_after"`
	Quick      bool           `json:"quick,omitempty"`
	Ready      ReadyResult    `json:"ready"`
	Requests   []RequestStats `json:"requests"`
	Throughput Throughput     `json:"throughput"`
	Memory     Memory         `json:"memory"`
	Targets    []Target       `json:"targets"`
	Seconds    float64        `json:"seconds"`
}

type Machine struct {
	CPU        string `json:"cpu"`
	Cores      int    `json:"cores"`
	MemoryGiB  int    `json:"memory_gib"`
	OS         string `json:"os"`
	Go         string `json:"go"`
	ORT        string `json:"onnxruntime"`
	JPEG       string `json:"jpeg_codec"`
	WebP       string `json:"webp_codec"`
	ORTThreads int    `json:"ort_threads"`
}

type ReadyResult struct {
	RunsMS   []float64 `json:"runs_ms"`
	MedianMS float64   `json:"median_ms"`
	IdleMB   float64   `json:"idle_rss_mb"`
}

type RequestStats struct {
	ID       string             `json:"id"`
	About    string             `json:"about"`
	Format   string             `json:"format"`
	Faces    int                `json:"faces"`
	N        int                `json:"n"`
	P50MS    float64            `json:"p50_ms"`
	P95MS    float64            `json:"p95_ms"`
	Bytes    int                `json:"response_bytes"`
	StagesMS map[string]float64 `json:"server_stages_p50_ms"`
	Floor    Floor              `json:"floor"`
	Ratio    float64            `json:"ratio"` // p50 / floor (one thread)
	// RatioTwoThreads is p50 / the floor's critical path on two threads:
	// the fair ratio when the request used an idle worker.
	RatioTwoThreads float64 `json:"ratio_two_threads"`
}

// Floor is what a request cannot go below: decoding both inputs, its model
// runs (ONNX Runtime's own time) and encoding the output. TotalMS adds it
// all up (one thread); TwoThreadsMS is its critical path when the source's
// decode and analysis run beside the target's, as the server does with an
// idle worker (one request in flight).
type Floor struct {
	DecodeSourceMS    float64 `json:"decode_source_ms"`
	DecodeTargetMS    float64 `json:"decode_target_ms"`
	DecodeMS          float64 `json:"decode_ms"`
	InferenceSourceMS float64 `json:"inference_source_ms"`
	InferenceTargetMS float64 `json:"inference_target_ms"`
	InferenceMS       float64 `json:"inference_ms"`
	ModelRuns         int     `json:"model_runs"`
	EncodeMS          float64 `json:"encode_ms"`
	TotalMS           float64 `json:"total_ms"`
	TwoThreadsMS      float64 `json:"two_threads_ms"`
	PipelineMS        float64 `json:"pipeline_ms"` // pipeline.Run in process, serial, no HTTP
}

type Throughput struct {
	Request  string  `json:"request"`
	Seconds  float64 `json:"seconds"`
	Workers1 float64 `json:"workers_1_rps"`
	Workers2 float64 `json:"workers_2_rps"`
	Scaling  float64 `json:"scaling"`
	// FloorScaling is what the machine itself allows: the request's model
	// runs replayed on 2 threads at once against 1, in this process.
	FloorScaling float64 `json:"floor_scaling"`
}

type Memory struct {
	InFlight int            `json:"in_flight"`
	Seconds  float64        `json:"seconds"`
	PeakMB   float64        `json:"peak_rss_mb"` // R1–R3, the target's measure
	Statuses map[string]int `json:"statuses"`
	// with the large portraits (R4) in the mix too
	PeakLargeMB   float64        `json:"peak_rss_with_large_mb,omitempty"`
	StatusesLarge map[string]int `json:"statuses_with_large,omitempty"`
}

type Target struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Limit string  `json:"target"`
	Met   bool    `json:"met"`
}

func main() {
	bin := flag.String("bin", "bin/faceswap", "the faceswap binary")
	testdata := flag.String("testdata", shared.Testdata(), "the shared test photos")
	n := flag.Int("n", 20, "timed requests per request variant with one in flight (R1-jpeg gets twice as many)")
	dur := flag.Duration("duration", 20*time.Second, "length of the throughput and memory phases, each")
	readyRuns := flag.Int("ready-runs", 5, "server starts timed to /readyz")
	jsonOut := flag.String("json", "BENCHMARKS.json", "machine-readable results ('' for none)")
	mdOut := flag.String("md", "BENCHMARKS.md", "document whose generated section is replaced ('' for none)")
	quick := flag.Bool("quick", false, "a short run that checks the tooling (few requests, 3 s phases); writes nothing unless -json/-md are given")
	profile := flag.String("profile", "", "write CPU and allocation profiles of -n R1 requests to this folder instead")
	flag.Parse()
	if *quick {
		*n, *dur, *readyRuns = 3, 3*time.Second, 2
		if !flagGiven("json") {
			*jsonOut = ""
		}
		if !flagGiven("md") {
			*mdOut = ""
		}
	}
	vs, err := variants(*testdata)
	if err != nil {
		fail("%v", err)
	}
	if *profile != "" {
		if err := profileRun(*profile, vs[0], *n); err != nil {
			fail("%v", err)
		}
		return
	}
	rep, err := run(*bin, vs, *n, *dur, *readyRuns)
	if err != nil {
		fail("%v", err)
	}
	rep.Quick = *quick
	printReport(os.Stdout, rep)
	if *jsonOut != "" {
		data, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(*jsonOut, append(data, '\n'), 0o644); err != nil {
			fail("%v", err)
		}
	}
	if *mdOut != "" {
		if err := updateMarkdown(*mdOut, rep); err != nil {
			fail("%v", err)
		}
	}
}

func flagGiven(name string) bool {
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	os.Exit(1)
}

// variants reads the photos and builds every request body.
func variants(testdata string) ([]*variant, error) {
	var vs []*variant
	for _, s := range shapes {
		src, err := readPhoto(testdata, s.Source, s.Large)
		if err != nil {
			return nil, err
		}
		dst, err := readPhoto(testdata, s.Target, s.Large)
		if err != nil {
			return nil, err
		}
		fs := formats
		if s.Large {
			fs = []string{"jpeg"}
		}
		for _, f := range fs {
			body, err := json.Marshal(map[string]any{
				"source_img":           base64.StdEncoding.EncodeToString(src),
				"target_img":           base64.StdEncoding.EncodeToString(dst),
				"input_faces_index":    s.Input,
				"source_faces_index":   s.SourceIdx,
				"face_restore":         "disable",
				"interpolation":        "Bilinear",
				"detection_face_order": "large-small",
				"facedetection":        "retinaface_resnet50",
				"detect_gender_input":  "no",
				"detect_gender_source": "no",
				"face_restore_weight":  0.75,
				"image_format":         f,
				"image_quality":        95,
				"base64":               false,
			})
			if err != nil {
				return nil, err
			}
			vs = append(vs, &variant{shape: s, Format: f, src: src, dst: dst, body: body})
		}
	}
	return vs, nil
}

// readPhoto reads a shared test photo (a name in images/, or a path under
// the test data folder), made into a large portrait when large is set.
func readPhoto(testdata, name string, large bool) ([]byte, error) {
	path := filepath.Join(testdata, "images", name)
	if strings.Contains(name, "/") {
		path = filepath.Join(testdata, filepath.FromSlash(name))
	}
	data, err := os.ReadFile(path)
	if err != nil || !large {
		return data, err
	}
	return largePortrait(data)
}

// largePortrait enlarges a photo twice (Catmull-Rom) and cuts 1280×1920
// around its centre, as a JPEG at quality 92: a phone portrait's size with
// a face of 650–750 px from the 1000×1000 hard/ photos.
func largePortrait(data []byte) ([]byte, error) {
	img, _, err := imageio.Decode(data, imageio.DefaultLimits)
	if err != nil {
		return nil, err
	}
	const w, h = 1280, 1920
	big := image.NewNRGBA(image.Rect(0, 0, 2*img.Rect.Dx(), 2*img.Rect.Dy()))
	xdraw.CatmullRom.Scale(big, big.Rect, img, img.Rect, xdraw.Src, nil)
	if big.Rect.Dx() < w || big.Rect.Dy() < h {
		return nil, fmt.Errorf("a %v photo enlarged twice is smaller than %d×%d", img.Rect.Size(), w, h)
	}
	x0, y0 := (big.Rect.Dx()-w)/2, (big.Rect.Dy()-h)/2
	var buf bytes.Buffer
	if err := imageio.Encode(&buf, big.SubImage(image.Rect(x0, y0, x0+w, y0+h)), "jpeg", 92); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// client sends requests to one server.
type client struct {
	url, key string
	hc       *http.Client
}

type answer struct {
	status  int
	elapsed time.Duration
	bytes   int
	timing  string // Server-Timing
	ctype   string
	faces   string
	err     error
}

func (c *client) send(ctx context.Context, body []byte) answer {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url+"/v1/faceswap-v3-multifaceswap", bytes.NewReader(body))
	if err != nil {
		return answer{err: err}
	}
	req.Header.Set("x-api-key", c.key)
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		return answer{err: err, elapsed: time.Since(start)}
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return answer{status: resp.StatusCode, elapsed: time.Since(start), bytes: int(n), err: err,
		timing: resp.Header.Get("Server-Timing"), ctype: resp.Header.Get("Content-Type"), faces: resp.Header.Get("X-Faces-Swapped")}
}

func newClient(url, key string) *client {
	return &client{url: url, key: key, hc: &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
}

// run measures the server (bin) phase by phase, then the floors in this
// process, and returns the report.
func run(bin string, vs []*variant, n int, dur time.Duration, readyRuns int) (*Report, error) {
	began := time.Now()
	rep := &Report{Date: time.Now().UTC().Format("2006-01-02 15:04 MST"), Commit: commitOf(bin), Machine: machine(), LoadBefore: loadavg()}
	dir, err := os.MkdirTemp("", "faceswap-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	b, err := newServers(bin, dir)
	if err != nil {
		return nil, err
	}
	if rep.Ready, err = b.readiness(readyRuns); err != nil {
		return nil, err
	}
	if rep.Requests, err = b.latencies(vs, n); err != nil {
		return nil, err
	}
	if rep.Throughput, err = b.throughput(vs[0], dur); err != nil {
		return nil, err
	}
	if rep.Memory, err = b.memory(vs, dur); err != nil {
		return nil, err
	}
	fmt.Fprintf(os.Stderr, "bench: floors\n")
	if err := floors(vs, rep); err != nil {
		return nil, err
	}
	if err := b.serverErrors(); err != nil {
		return nil, err
	}
	rep.LoadAfter = loadavg()
	rep.Targets = targets(rep)
	rep.Seconds = math.Round(time.Since(began).Seconds())
	return rep, nil
}

// servers starts bin's server, each time anew, on one database holding
// one key, logging to one file.
type servers struct {
	bin, db, log, key string
}

// newServers makes the database in dir and its key.
func newServers(bin, dir string) (*servers, error) {
	b := &servers{bin: bin, db: filepath.Join(dir, "bench.db"), log: filepath.Join(dir, "server.log")}
	var err error
	b.key, err = serverproc.CreateKey(bin, b.db, 1_000_000_000, 1_000_000)
	return b, err
}

func (b *servers) start(args ...string) (*serverproc.Server, error) {
	return serverproc.Start(serverproc.Options{Bin: b.bin, DB: b.db, Log: b.log, Args: args})
}

// readiness times runs starts from process start to ready, with the
// models cached, and takes the idle RSS after the last.
func (b *servers) readiness(runs int) (ReadyResult, error) {
	fmt.Fprintf(os.Stderr, "bench: timing %d starts to /readyz\n", runs)
	var r ReadyResult
	for i := range runs {
		s, err := b.start()
		if err != nil {
			return r, err
		}
		r.RunsMS = append(r.RunsMS, msf(s.Ready))
		if i == runs-1 {
			rss, _ := s.Memory()
			r.IdleMB = mb(rss)
		}
		if err := s.Stop(); err != nil {
			return r, err
		}
	}
	r.MedianMS = stats.Median(r.RunsMS)
	return r, nil
}

// latencies times every variant with one request in flight (default
// workers and queue); the first, R1-jpeg, gets twice as many requests.
func (b *servers) latencies(vs []*variant, n int) ([]RequestStats, error) {
	s, err := b.start()
	if err != nil {
		return nil, err
	}
	c := newClient(s.URL, b.key)
	var out []RequestStats
	for i, v := range vs {
		count, warm := n, 2
		if i == 0 {
			count, warm = 2*n, 4
		}
		fmt.Fprintf(os.Stderr, "bench: %s, %d requests one at a time\n", v.id(), count)
		st, err := oneAtATime(c, v, warm, count)
		if err != nil {
			s.Stop()
			return nil, fmt.Errorf("%s: %w", v.id(), err)
		}
		out = append(out, st)
	}
	return out, s.Stop()
}

// oneAtATime sends v warm+count times, each after the last is answered,
// and sums up the last count answers: latency percentiles, response size
// and the server's stage timings.
func oneAtATime(c *client, v *variant, warm, count int) (RequestStats, error) {
	ctx := context.Background()
	var lat []float64
	stages := map[string][]float64{}
	st := RequestStats{ID: v.id(), About: v.About, Format: v.Format, Faces: v.Faces, N: count}
	for k := range warm + count {
		a := c.send(ctx, v.body)
		if err := a.check(v); err != nil {
			return st, err
		}
		if k < warm {
			continue
		}
		lat = append(lat, msf(a.elapsed))
		st.Bytes = a.bytes
		for name, d := range parseTiming(a.timing) {
			stages[name] = append(stages[name], d)
		}
	}
	st.P50MS, st.P95MS = stats.Median(lat), stats.Percentile(lat, 0.95)
	st.StagesMS = map[string]float64{}
	for name, ds := range stages {
		st.StagesMS[name] = stats.Median(ds)
	}
	return st, nil
}

// throughput measures v's rate with 1 and with 2 workers, each kept busy
// by twice as many clients.
func (b *servers) throughput(v *variant, dur time.Duration) (Throughput, error) {
	t := Throughput{Request: v.id(), Seconds: dur.Seconds()}
	for _, w := range []int{1, 2} {
		s, err := b.start("--workers", strconv.Itoa(w), "--queue", strconv.Itoa(2*w))
		if err != nil {
			return t, err
		}
		fmt.Fprintf(os.Stderr, "bench: throughput with %d worker(s), %d clients, %v\n", w, 2*w, dur)
		res := closedLoop(newClient(s.URL, b.key), []*variant{v}, 2*w, dur/5, dur, nil)
		if err := s.Stop(); err != nil {
			return t, err
		}
		if res.bad > 0 {
			return t, fmt.Errorf("throughput with %d workers: %d answers were not 200: %v", w, res.bad, res.statuses)
		}
		if w == 1 {
			t.Workers1 = res.rps
		} else {
			t.Workers2 = res.rps
		}
	}
	t.Scaling = t.Workers2 / t.Workers1
	return t, nil
}

// memory measures the peak RSS with 8 requests in flight: 2 workers and
// room for 6 waiting, 8 clients sending every variant in turn: R1–R3
// (what the target of 400 MB was set on), then with the large portraits
// too.
func (b *servers) memory(vs []*variant, dur time.Duration) (Memory, error) {
	var small []*variant
	for _, v := range vs {
		if !v.Large {
			small = append(small, v)
		}
	}
	m := Memory{InFlight: 8, Seconds: dur.Seconds()}
	for _, set := range [][]*variant{small, vs} {
		if len(set) == len(vs) && len(small) == len(vs) {
			break // no large request: nothing more to measure
		}
		s, err := b.start("--workers", "2", "--queue", "6")
		if err != nil {
			return m, err
		}
		fmt.Fprintf(os.Stderr, "bench: memory with 8 in flight, %d variants, %v\n", len(set), dur)
		res := closedLoop(newClient(s.URL, b.key), set, 8, 0, dur, s)
		_, peak := s.Memory()
		if err := s.Stop(); err != nil {
			return m, err
		}
		if res.bad > 0 {
			return m, fmt.Errorf("memory phase: answers other than 200: %v", res.statuses)
		}
		if len(set) == len(small) {
			m.PeakMB, m.Statuses = mb(peak), res.statuses
		} else {
			m.PeakLargeMB, m.StatusesLarge = mb(peak), res.statuses
		}
	}
	return m, nil
}

// serverErrors fails when the servers logged an answer with a 5xx status
// other than 503 (a full queue, which the memory phase may meet).
func (b *servers) serverErrors() error {
	data, err := os.ReadFile(b.log)
	if err != nil {
		return nil
	}
	if k := bytes.Count(data, []byte(`"status":5`)) - bytes.Count(data, []byte(`"status":503`)); k > 0 {
		return fmt.Errorf("the server logged %d answers with a 5xx status; see the log", k)
	}
	return nil
}

// check says what is wrong with an answer to v, if anything.
func (a answer) check(v *variant) error {
	switch {
	case a.err != nil:
		return a.err
	case a.status != http.StatusOK:
		return fmt.Errorf("status %d", a.status)
	case a.ctype != imageio.ContentType(v.Format):
		return fmt.Errorf("Content-Type %q for %s", a.ctype, v.Format)
	case a.faces != strconv.Itoa(v.Faces):
		return fmt.Errorf("X-Faces-Swapped %q, want %d", a.faces, v.Faces)
	}
	return nil
}

// parseTiming reads Server-Timing: "decode;dur=12.4, detect;dur=80, ...".
func parseTiming(h string) map[string]float64 {
	out := map[string]float64{}
	for _, part := range strings.Split(h, ",") {
		name, dur, ok := strings.Cut(strings.TrimSpace(part), ";dur=")
		if !ok {
			continue
		}
		if d, err := strconv.ParseFloat(dur, 64); err == nil {
			out[name] = d
		}
	}
	return out
}

type loopResult struct {
	rps      float64
	statuses map[string]int
	bad      int
}

// closedLoop keeps `clients` requests in flight (each client sends its next
// request when the last is answered, cycling through vs) for warm+dur, and
// counts the 200s completed during dur.
func closedLoop(c *client, vs []*variant, clients int, warm, dur time.Duration, s *serverproc.Server) loopResult {
	ctx := context.Background()
	t0 := time.Now().Add(warm)
	t1 := t0.Add(dur)
	var (
		mu       sync.Mutex
		done     int
		statuses = map[string]int{}
		bad      int
		wg       sync.WaitGroup
	)
	for i := range clients {
		wg.Go(func() {
			for k := i; time.Now().Before(t1); k++ {
				a := c.send(ctx, vs[k%len(vs)].body)
				end := time.Now()
				mu.Lock()
				key := strconv.Itoa(a.status)
				if a.err != nil {
					key = "error"
				}
				statuses[key]++
				if a.err != nil || a.status != http.StatusOK {
					bad++
				} else if end.After(t0) && !end.After(t1) {
					done++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return loopResult{rps: float64(done) / dur.Seconds(), statuses: statuses, bad: bad}
}

// modelRun is one recorded model run: the session and its inputs.
type modelRun struct {
	s  *onnx.Session
	in map[string]onnx.Tensor
}

// recorder keeps the model runs made while it records: it is the
// runtime's onnx.Config.Observe, which sees every run whether or not a
// recording is on.
type recorder struct {
	on   atomic.Bool
	mu   sync.Mutex
	runs []modelRun
}

// observe keeps a copy of a run's inputs while recording (the caller may
// reuse its buffers once the run is done).
func (r *recorder) observe(s *onnx.Session, in map[string]onnx.Tensor) {
	if !r.on.Load() {
		return
	}
	cp := make(map[string]onnx.Tensor, len(in))
	for k, t := range in {
		cp[k] = onnx.Tensor{Shape: append([]int64(nil), t.Shape...), Data: append([]float32(nil), t.Data...)}
	}
	r.mu.Lock()
	r.runs = append(r.runs, modelRun{s, cp})
	r.mu.Unlock()
}

// record returns the model runs fn makes.
func (r *recorder) record(fn func() error) ([]modelRun, error) {
	r.mu.Lock()
	r.runs = nil
	r.mu.Unlock()
	r.on.Store(true)
	err := fn()
	r.on.Store(false)
	r.mu.Lock()
	defer r.mu.Unlock()
	runs := r.runs
	r.runs = nil
	return runs, err
}

// replay runs the recorded model runs again and returns the time spent
// inside ONNX Runtime (the sessions' own counters).
func replay(runs []modelRun) (time.Duration, error) {
	sessions := map[*onnx.Session]bool{}
	for _, r := range runs {
		sessions[r.s] = true
	}
	spent := func() (d time.Duration) {
		for s := range sessions {
			_, t := s.Stats()
			d += t
		}
		return d
	}
	before := spent()
	for _, r := range runs {
		if _, err := r.s.Run(r.in); err != nil {
			return 0, err
		}
	}
	return spent() - before, nil
}

// floorReps is how many times each part of a floor is timed (medians).
const floorReps = 7

// floors measures each variant's floor in this process: the source's and
// the target's decode and model runs apart (a request with an idle worker
// does them side by side), and the output's encode; and, on the first
// variant's model runs, how far the machine's two cores scale.
func floors(vs []*variant, rep *Report) error {
	r, err := openRig()
	if err != nil {
		return err
	}
	defer r.rt.Close()
	rep.Machine.ORT = r.rt.Version()
	rep.Machine.ORTThreads = r.rt.Config().IntraOpThreads
	for i, v := range vs {
		req := pipeline.Request{
			Source: v.src, Target: v.dst, InputFacesIndex: v.Input, SourceFacesIndex: v.SourceIdx,
			ImageFormat: v.Format, ImageQuality: 95, FaceRestoreWeight: 0.75,
		}
		pipe, res, err := r.pipelineTimes(v, &req)
		if err != nil {
			return err
		}
		srcRuns, dstRuns, all, err := r.modelRuns(v, &req)
		if err != nil {
			return err
		}
		f, err := r.inputTimes(v, srcRuns, dstRuns)
		if err != nil {
			return err
		}
		if i == 0 {
			rep.Throughput.FloorScaling = floorScaling(append(append([]modelRun{}, srcRuns...), dstRuns...))
		}
		if f.EncodeMS, err = r.encodeTime(v, res); err != nil {
			return err
		}
		f.ModelRuns, f.PipelineMS = all, stats.Median(pipe)
		f.addUp()
		st := &rep.Requests[i]
		st.Floor = f
		st.Ratio = round(st.P50MS/f.TotalMS, 2)
		st.RatioTwoThreads = round(st.P50MS/f.TwoThreadsMS, 2)
	}
	return nil
}

// rig is the pipeline the floors are measured on, its runtime recording
// model runs on demand.
type rig struct {
	pl  *pipeline.Pipeline
	rt  *onnx.Runtime
	rec *recorder
}

// openRig opens the pipeline as the server would (its settings from the
// environment), with a recorder as the runtime's observer.
func openRig() (*rig, error) {
	cfg, err := server.FromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	rec := &recorder{}
	oc := cfg.ORTConfig()
	oc.Observe = rec.observe
	pl, rt, err := pipeline.Open(models.Paths{Home: cfg.Home}, oc)
	if err != nil {
		return nil, err
	}
	pl.Limits = imageio.Limits{MaxBytes: cfg.MaxImageBytes, MaxPixels: cfg.MaxImagePixels}
	return &rig{pl: pl, rt: rt, rec: rec}, nil
}

// pipelineTimes runs the request through the pipeline three times, in
// process and serially (no helper), and returns the times and the last
// result.
func (r *rig) pipelineTimes(v *variant, req *pipeline.Request) ([]float64, *pipeline.Result, error) {
	var (
		pipe []float64
		res  *pipeline.Result
		err  error
	)
	for range 3 {
		t := time.Now()
		if res, err = r.pl.Run(context.Background(), req); err != nil {
			return nil, nil, fmt.Errorf("%s in process: %w", v.id(), err)
		}
		pipe = append(pipe, msf(time.Since(t)))
	}
	return pipe, res, nil
}

// modelRuns records the model runs of each image's analysis, as Run makes
// them (default fields: no gender filter, so no attribute model), adds the
// request's iris runs (one per image, on the paired faces), and checks that
// they are all the runs the whole request makes.
func (r *rig) modelRuns(v *variant, req *pipeline.Request) (src, dst []modelRun, all int, err error) {
	srcImg, _, err := imageio.Decode(v.src, r.pl.Limits)
	if err != nil {
		return nil, nil, 0, err
	}
	dstImg, _, err := imageio.Decode(v.dst, r.pl.Limits)
	if err != nil {
		return nil, nil, 0, err
	}
	analyze := func(img *image.NRGBA) func() error {
		return func() error { _, err := r.pl.Analyzer.Analyze(img, analysis.Options{}); return err }
	}
	if src, err = r.rec.record(analyze(srcImg)); err != nil {
		return nil, nil, 0, err
	}
	if dst, err = r.rec.record(analyze(dstImg)); err != nil {
		return nil, nil, 0, err
	}
	whole, err := r.rec.record(func() error { _, err := r.pl.Run(context.Background(), req); return err })
	if err != nil {
		return nil, nil, 0, err
	}
	// after the two analyses the request finds the irises of the paired
	// faces: one run on the source image, then one on the target
	extra := len(whole) - len(src) - len(dst)
	if extra < 0 || extra > 2 {
		return nil, nil, 0, fmt.Errorf("%s: the request made %d model runs, its two analyses %d and %d (and up to 2 iris runs)", v.id(), len(whole), len(src), len(dst))
	}
	iris := whole[len(src)+len(dst):]
	if len(iris) > 0 {
		src = append(src, iris[0])
	}
	if len(iris) > 1 {
		dst = append(dst, iris[1])
	}
	return src, dst, len(whole), nil
}

// inputTimes times, floorReps times each, decoding each input and
// replaying its model runs, and returns the medians as a Floor's source
// and target parts.
func (r *rig) inputTimes(v *variant, srcRuns, dstRuns []modelRun) (Floor, error) {
	var decS, decD, infS, infD []float64
	for range floorReps {
		t := time.Now()
		if _, _, err := imageio.Decode(v.src, r.pl.Limits); err != nil {
			return Floor{}, err
		}
		decS = append(decS, msf(time.Since(t)))
		t = time.Now()
		if _, _, err := imageio.Decode(v.dst, r.pl.Limits); err != nil {
			return Floor{}, err
		}
		decD = append(decD, msf(time.Since(t)))
		d, err := replay(srcRuns)
		if err != nil {
			return Floor{}, err
		}
		infS = append(infS, msf(d))
		if d, err = replay(dstRuns); err != nil {
			return Floor{}, err
		}
		infD = append(infD, msf(d))
	}
	return Floor{
		DecodeSourceMS: stats.Median(decS), DecodeTargetMS: stats.Median(decD),
		InferenceSourceMS: stats.Median(infS), InferenceTargetMS: stats.Median(infD),
	}, nil
}

// encodeTime times encoding the request's output (decoded from the
// pipeline's result) in the variant's format, and returns the median.
func (r *rig) encodeTime(v *variant, res *pipeline.Result) (float64, error) {
	out, _, err := imageio.Decode(res.Image, r.pl.Limits)
	if err != nil {
		return 0, err
	}
	var enc []float64
	for range floorReps {
		t := time.Now()
		if err := imageio.Encode(io.Discard, out, v.Format, 95); err != nil {
			return 0, err
		}
		enc = append(enc, msf(time.Since(t)))
	}
	return stats.Median(enc), nil
}

// addUp fills the floor's totals from its parts: everything on one
// thread, and the critical path with the source's decode and model runs
// beside the target's.
func (f *Floor) addUp() {
	f.DecodeMS = round(f.DecodeSourceMS+f.DecodeTargetMS, 1)
	f.InferenceMS = round(f.InferenceSourceMS+f.InferenceTargetMS, 1)
	f.TotalMS = round(f.DecodeMS+f.InferenceMS+f.EncodeMS, 1)
	f.TwoThreadsMS = round(math.Max(f.DecodeSourceMS+f.InferenceSourceMS, f.DecodeTargetMS+f.InferenceTargetMS)+f.EncodeMS, 1)
}

// floorScaling is how far two cores scale on this very work: the rate of
// the model runs replayed by 2 goroutines at once over their rate by 1.
func floorScaling(runs []modelRun) float64 {
	rate := func(goroutines, n int) float64 {
		start := time.Now()
		var wg sync.WaitGroup
		for range goroutines {
			wg.Go(func() {
				for range n {
					replay(runs)
				}
			})
		}
		wg.Wait()
		return float64(goroutines*n) / time.Since(start).Seconds()
	}
	one := rate(1, 2*floorReps)
	two := rate(2, 2*floorReps)
	return round(two/one, 2)
}

func targets(rep *Report) []Target {
	r1 := rep.Requests[0]
	ts := []Target{
		{Name: "R1 p50, one in flight (ms)", Value: r1.P50MS, Limit: "≤ 250", Met: r1.P50MS <= 250},
	}
	for _, r := range rep.Requests {
		ts = append(ts, Target{Name: r.ID + " p50 / floor (two threads)", Value: r.RatioTwoThreads, Limit: "≤ 1.3", Met: r.RatioTwoThreads <= 1.3})
	}
	ts = append(ts,
		Target{Name: "throughput, 2 workers / 1 worker", Value: round(rep.Throughput.Scaling, 2), Limit: "≥ 1.8", Met: rep.Throughput.Scaling >= 1.8},
		Target{Name: "(the machine: model runs on 2 threads / 1)", Value: rep.Throughput.FloorScaling, Limit: "(≥ 1.8)", Met: rep.Throughput.FloorScaling >= 1.8},
		Target{Name: "peak RSS, 8 in flight (MB)", Value: rep.Memory.PeakMB, Limit: "≤ 400", Met: rep.Memory.PeakMB <= 400},
		Target{Name: "process start to ready (ms, median)", Value: rep.Ready.MedianMS, Limit: "≤ 1000", Met: rep.Ready.MedianMS <= 1000},
	)
	for _, r := range rep.Requests {
		if r1.StagesMS["swap"] > 0 && strings.HasPrefix(r.ID, "R4") {
			v := round(r.StagesMS["swap"]/r1.StagesMS["swap"], 2)
			ts = append(ts, Target{Name: r.ID + " swap stage / R1's (p50)", Value: v, Limit: "≤ 3", Met: v <= 3})
		}
	}
	return ts
}

func printReport(w io.Writer, rep *Report) {
	fmt.Fprintf(w, "\n%s, commit %s, %s; load before %s, after %s; %.0f s\n", rep.Date, rep.Commit, rep.Machine.CPU, rep.LoadBefore, rep.LoadAfter, rep.Seconds)
	fmt.Fprintf(w, "%-8s %7s %7s %7s %7s %7s %7s %7s %7s %7s\n", "request", "p50", "p95", "decode", "infer", "encode", "floor", "ratio", "floor2", "ratio2")
	for _, r := range rep.Requests {
		fmt.Fprintf(w, "%-8s %7.1f %7.1f %7.1f %7.1f %7.1f %7.1f %7.2f %7.1f %7.2f\n", r.ID, r.P50MS, r.P95MS, r.Floor.DecodeMS, r.Floor.InferenceMS,
			r.Floor.EncodeMS, r.Floor.TotalMS, r.Ratio, r.Floor.TwoThreadsMS, r.RatioTwoThreads)
	}
	fmt.Fprintln(w, "(floor: one thread; floor2: its critical path with the source's decode and analysis beside the target's, as with an idle worker)")
	fmt.Fprintf(w, "throughput %s: 1 worker %.2f/s, 2 workers %.2f/s (×%.2f; its model runs alone on 2 threads: ×%.2f)\n", rep.Throughput.Request, rep.Throughput.Workers1, rep.Throughput.Workers2, rep.Throughput.Scaling, rep.Throughput.FloorScaling)
	fmt.Fprintf(w, "peak RSS with 8 in flight: %.0f MB (%v), with the large portraits too %.0f MB (%v); ready after %.0f ms (median of %v)\n", rep.Memory.PeakMB, rep.Memory.Statuses, rep.Memory.PeakLargeMB, rep.Memory.StatusesLarge, rep.Ready.MedianMS, rep.Ready.RunsMS)
	for _, t := range rep.Targets {
		mark := "met"
		if !t.Met {
			mark = "MISSED"
		}
		fmt.Fprintf(w, "  %-44s %9.2f  %-7s %s\n", t.Name, t.Value, t.Limit, mark)
	}
}

const (
	mdBegin = "<!-- make bench: generated section begins; edits inside are overwritten -->"
	mdEnd   = "<!-- make bench: generated section ends -->"
)

// updateMarkdown replaces the generated section of the document (or adds
// it at the end).
func updateMarkdown(path string, rep *Report) error {
	doc, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var b strings.Builder
	m := rep.Machine
	fmt.Fprintf(&b, "%s\n\n", mdBegin)
	fmt.Fprintf(&b, "Run of %s at commit `%s`; machine: %s, %d cores, %d GiB, %s; %s, ONNX Runtime %s (%d intra-op thread per run), JPEG by %s, WebP by %s (%s). Load average before the run %s, after %s; the run took %.0f s.\n\n",
		rep.Date, rep.Commit, m.CPU, m.Cores, m.MemoryGiB, m.OS, m.Go, m.ORT, m.ORTThreads, m.JPEG, m.WebP, webpNote(m.WebP), rep.LoadBefore, rep.LoadAfter, rep.Seconds)
	b.WriteString("| request | faces | p50 ms | p95 ms | floor ms, one thread: decode + inference + encode | floor ms, two threads | model runs | p50 / floor (one thread) | p50 / floor (two threads) | server stages p50 ms |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for _, r := range rep.Requests {
		fmt.Fprintf(&b, "| %s | %d | %.0f | %.0f | %.0f = %.1f + %.1f + %.1f | %.0f | %d | %.2f | **%.2f** | %s |\n",
			r.ID, r.Faces, r.P50MS, r.P95MS, r.Floor.TotalMS, r.Floor.DecodeMS, r.Floor.InferenceMS, r.Floor.EncodeMS, r.Floor.TwoThreadsMS,
			r.Floor.ModelRuns, r.Ratio, r.RatioTwoThreads, stageList(r.StagesMS))
	}
	fmt.Fprintf(&b, "\nThroughput of %s (closed loop, two clients per worker, %.0f s): **%.2f/s with 1 worker, %.2f/s with 2** (×%.2f); the request's model runs alone, replayed on 2 threads at once against 1, scale ×%.2f on this machine. Peak RSS with 8 requests in flight (2 workers, queue 6, every R1–R3 request above in turn, %.0f s): **%.0f MB** (answers: %s); with R4's large portraits in the mix too: %.0f MB (answers: %s). Process start to the first 200 of `/readyz`: **%.0f ms** (median of %s ms); idle RSS %.0f MB.\n\n",
		rep.Throughput.Request, rep.Throughput.Seconds, rep.Throughput.Workers1, rep.Throughput.Workers2, rep.Throughput.Scaling, rep.Throughput.FloorScaling,
		rep.Memory.Seconds, rep.Memory.PeakMB, statusList(rep.Memory.Statuses), rep.Memory.PeakLargeMB, statusList(rep.Memory.StatusesLarge), rep.Ready.MedianMS, floatList(rep.Ready.RunsMS), rep.Ready.IdleMB)
	b.WriteString("| target | measured | target | |\n| --- | --- | --- | --- |\n")
	for _, t := range rep.Targets {
		mark := "met"
		if !t.Met {
			mark = "**missed**"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", t.Name, strconv.FormatFloat(t.Value, 'f', -1, 64), t.Limit, mark)
	}
	fmt.Fprintf(&b, "\n%s", mdEnd)
	s := string(doc)
	i, j := strings.Index(s, mdBegin), strings.Index(s, mdEnd)
	if i >= 0 && j > i {
		s = s[:i] + b.String() + s[j+len(mdEnd):]
	} else {
		s = strings.TrimRight(s, "\n") + "\n\n" + b.String() + "\n"
	}
	return os.WriteFile(path, []byte(s), 0o644)
}

func webpNote(backend string) string {
	if backend == "system" {
		return "the system libwebp"
	}
	return "libwebp as WebAssembly"
}

func stageList(m map[string]float64) string {
	order := []string{"fetch", "queue", "decode", "detect", "select", "swap", "restore", "encode"}
	var parts []string
	for _, k := range order {
		if v, ok := m[k]; ok && (v >= 0.5 || k == "decode" || k == "detect" || k == "swap" || k == "encode") {
			parts = append(parts, fmt.Sprintf("%s %.0f", k, v))
		}
	}
	return strings.Join(parts, ", ")
}

func statusList(m map[string]int) string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d × %s", m[k], k))
	}
	return strings.Join(parts, ", ")
}

func floatList(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = strconv.FormatFloat(math.Round(x), 'f', -1, 64)
	}
	return strings.Join(parts, ", ")
}

// profileRun serves in this process and profiles n R1 requests.
func profileRun(dir string, v *variant, n int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "faceswap-profile-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	cfg, err := server.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	cfg.Addr, cfg.DB, cfg.DatabaseURL, cfg.RedisURL, cfg.Cost = "127.0.0.1:0", filepath.Join(tmp, "p.db"), "", "", 1
	m, err := server.NewWith(cfg, server.Deps{Log: io.Discard})
	if err != nil {
		return err
	}
	defer m.Close()
	secret, _, err := m.Store.Accounts().CreateKey(context.Background(), keyOptions())
	if err != nil {
		return err
	}
	if err := m.Run(context.Background()); err != nil {
		return err
	}
	c := newClient(m.URL(), secret)
	for range 3 {
		if a := c.send(context.Background(), v.body); a.check(v) != nil {
			return fmt.Errorf("warm-up: %v", a.check(v))
		}
	}
	cpu, err := os.Create(filepath.Join(dir, "cpu.pprof"))
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.StartCPUProfile(cpu); err != nil {
		return err
	}
	var lat []float64
	for range n {
		a := c.send(context.Background(), v.body)
		if err := a.check(v); err != nil {
			pprof.StopCPUProfile()
			return err
		}
		lat = append(lat, msf(a.elapsed))
	}
	pprof.StopCPUProfile()
	cpu.Close()
	allocs, err := os.Create(filepath.Join(dir, "allocs.pprof"))
	if err != nil {
		return err
	}
	defer allocs.Close()
	if err := pprof.Lookup("allocs").WriteTo(allocs, 0); err != nil {
		return err
	}
	fmt.Printf("%d × %s in process: p50 %.1f ms; profiles in %s (go tool pprof -top %s)\n", n, v.id(), stats.Median(lat), dir,
		filepath.Join(dir, "cpu.pprof"))
	return nil
}

func msf(d time.Duration) float64 { return round(float64(d)/1e6, 1) }
func mb(b int64) float64          { return round(float64(b)/(1<<20), 0) }
func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

func loadavg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// commitOf is the commit the report names for the binary bin: the
// checkout's (commit) when bin is this checkout's bin/faceswap, else the
// checkout's marked as not the binary's (a binary built elsewhere, e.g. an
// older commit's measured against this one, was labelled with this one).
func commitOf(bin string) string {
	c := commit()
	own, err1 := filepath.Abs(filepath.Join("bin", "faceswap"))
	abs, err2 := filepath.Abs(bin)
	if err1 == nil && err2 == nil && own == abs {
		return c
	}
	return c + " (the checkout's; the binary measured is " + bin + ")"
}

func commit() string {
	out, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output()
	if err == nil {
		for _, line := range strings.Split(strings.TrimSpace(string(st)), "\n") {
			if line != "" && !strings.Contains(line, "BENCHMARKS.") {
				return c + " (with uncommitted changes)"
			}
		}
	}
	return c
}

func machine() Machine {
	m := Machine{Cores: runtime.NumCPU(), Go: runtime.Version(), JPEG: imageio.JPEGBackend(), WebP: imageio.WebPBackend()}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		fmt.Sscanf(string(data), "MemTotal: %d kB", &kb)
		m.MemoryGiB = int(math.Round(float64(kb) / (1 << 20)))
	}
	if data, err := os.ReadFile("/etc/os-release"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
				m.OS = strings.Trim(v, `"`)
			}
		}
	}
	return m
}

func keyOptions() faceswap.KeyOptions {
	return faceswap.KeyOptions{Name: "profile", Credits: 1_000_000, RatePerMinute: 1_000_000}
}
