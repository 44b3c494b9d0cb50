// Command soak is `make soak`: it drives a throwaway faceswap server (the
// real binary, its own SQLite database, one key) past its capacity with a
// mix of good and bad requests, then kills it under load and restarts it,
// and checks what an operator and a paying client care about:
//
//   - soak (-duration, 10 min in make soak): good requests arrive at
//     -factor (1.5) times the capacity measured first, bad ones on top
//     (malformed JSON, missing fields, corrupt, truncated and oversized
//     images, a photo without a face, an index out of range, an unknown
//     output format, an unknown key). Every answer must be the one its
//     request deserves or a 503 (overload); no other 5xx, no transport
//     error. After a warm-up (the first fifth), resident memory and
//     goroutines must stay flat: read every 500 ms, their mean over each
//     minute within ±10% of the median of those means (a single read moves
//     with the requests in flight at that instant: a few goroutines each).
//     At the end the ledger (the key's usage rows and balance) must hold
//     exactly the requests answered 200.
//   - crash (-kills, 5 in make soak): under the same load the server is
//     killed with SIGKILL at a random moment and restarted on the same
//     database; after each restart the ledger must hold exactly the
//     requests whose clients received a complete 200 (nothing charged
//     without one, none uncharged).
//
// It prints a report and exits 1 when a check fails.
package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the driver store/sqlite uses, to read the ledger

	"faceswap/tools/internal/serverproc"
	"faceswap/tools/internal/shared"
	"faceswap/tools/internal/stats"
)

func main() {
	var c Config
	flag.StringVar(&c.Bin, "bin", "bin/faceswap", "the faceswap binary")
	flag.StringVar(&c.Testdata, "testdata", shared.Testdata(), "the shared test photos")
	flag.StringVar(&c.Photos, "photos", "", "a folder of the photos the tests derive from the demo photos (group3.jpg, group5.jpg, portrait.png, portrait2.png, noface.jpg), used instead of -testdata's")
	flag.DurationVar(&c.Duration, "duration", 10*time.Minute, "length of the soak (0: skip it)")
	flag.Float64Var(&c.Factor, "factor", 1.5, "good requests arrive at this multiple of the measured capacity")
	flag.IntVar(&c.Kills, "kills", 5, "SIGKILLs of the crash test (0: skip it)")
	flag.DurationVar(&c.Sample, "sample", time.Minute, "memory and goroutines are read every 500 ms and judged by their mean over each period this long")
	flag.Parse()
	c.Log = os.Stderr
	failed := false
	if c.Duration > 0 {
		r, err := Soak(c)
		if err != nil {
			fail("soak: %v", err)
		}
		r.Print(os.Stdout)
		failed = failed || !r.OK()
	}
	if c.Kills > 0 {
		r, err := Crash(c)
		if err != nil {
			fail("crash: %v", err)
		}
		r.Print(os.Stdout)
		failed = failed || !r.OK()
	}
	if failed {
		fmt.Println("soak: FAILED")
		os.Exit(1)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "soak: "+format+"\n", args...)
	os.Exit(1)
}

// Config says what to run.
type Config struct {
	Bin, Testdata string
	// Photos, when set, is a folder of the test photos derived from the
	// demo photos (internal/testenv's Photos), which every machine has
	// after set-up: the requests are made of them instead of Testdata's.
	Photos   string
	Duration time.Duration
	Factor   float64
	Kills    int
	Sample   time.Duration
	Log      io.Writer // progress lines
	// Capacity, when positive, is used instead of measuring it (req/s).
	Capacity float64
}

func (c Config) logf(format string, args ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, "soak: "+format+"\n", args...)
	}
}

// kind is one sort of request with the answers it may get.
type kind struct {
	name string
	body []byte
	key  string // "" = the good key
	want int    // the status it deserves; 503 is always acceptable
	good bool
}

// requests builds the good and bad requests from the shared photos, or
// from the derived ones (c.Photos).
func requests(c Config) (good, bad []kind, err error) {
	// A group of three, a group of five, two portraits, a crowd (its face
	// indices) and a photo without a face.
	dir := filepath.Join(c.Testdata, "images")
	names := []string{"group3_apollo11_crew.jpg", "group5_office_meeting.jpg", "portrait_woman_frontal_smiling.png",
		"portrait_man_frontal_luciano.png", "group8_nasa_astronaut_class_2013.png", "noface_rocket_launch.jpg"}
	crowd := "0,1,2,3,4,5,6,7"
	if c.Photos != "" {
		// The derived photos have no crowd: the group of five stands in.
		dir = c.Photos
		names = []string{"group3.jpg", "group5.jpg", "portrait.png", "portrait2.png", "group5.jpg", "noface.jpg"}
		crowd = "0,1,2,3,4"
	}
	files := make([][]byte, len(names))
	for i, n := range names {
		if files[i], err = os.ReadFile(filepath.Join(dir, n)); err != nil {
			return nil, nil, err
		}
	}
	b64 := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	body := func(src, dst []byte, in, si, format string, extra map[string]any) []byte {
		m := map[string]any{"source_img": b64(src), "target_img": b64(dst), "input_faces_index": in, "source_faces_index": si,
			"image_format": format, "image_quality": 95}
		for k, v := range extra {
			m[k] = v
		}
		data, _ := json.Marshal(m)
		return data
	}
	apollo, office, woman, luciano, class, noface := files[0], files[1], files[2], files[3], files[4], files[5]
	good = []kind{
		{name: "R1 jpeg", body: body(apollo, office, "0,1,2", "0,1,2", "jpeg", nil), want: 200, good: true},
		{name: "R1 jpeg", body: body(apollo, office, "0,1,2", "0,1,2", "jpeg", nil), want: 200, good: true},
		{name: "R2 jpeg", body: body(woman, office, "0,1,2,3,4", "0", "jpeg", nil), want: 200, good: true},
		{name: "R3 png", body: body(luciano, class, crowd, "0", "png", nil), want: 200, good: true},
		{name: "R3 webp", body: body(luciano, class, crowd, "0", "webp", nil), want: 200, good: true},
	}
	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(i*31 + i/7)
	}
	bad = []kind{
		{name: "invalid JSON", body: []byte(`{"source_img": "aGk=", "target_img": `), want: 400},
		{name: "missing target_img", body: []byte(`{"source_img": "` + b64(apollo) + `"}`), want: 400},
		{name: "corrupt image", body: body(garbage, office, "0", "0", "jpeg", nil), want: 400},
		{name: "truncated JPEG", body: body(apollo, office[:len(office)/3], "0", "0", "jpeg", nil), want: 400},
		{name: "giant dimensions", body: body(apollo, giantPNG(), "0", "0", "jpeg", nil), want: 413},
		{name: "no face", body: body(apollo, noface, "0", "0", "jpeg", nil), want: 422},
		{name: "index out of range", body: body(apollo, office, "9", "0", "jpeg", nil), want: 422},
		{name: "unknown format", body: body(apollo, office, "0", "0", "bmp", nil), want: 400},
		{name: "unknown key", body: body(apollo, office, "0", "0", "jpeg", nil), key: "fs_unknown_key", want: 401},
	}
	return good, bad, nil
}

// giantPNG is a valid 1×1 PNG whose header claims 30000×30000 pixels.
func giantPNG() []byte {
	p := []byte("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		p = binary.BigEndian.AppendUint32(p, uint32(len(data)))
		start := len(p)
		p = append(p, typ...)
		p = append(p, data...)
		p = binary.BigEndian.AppendUint32(p, crc32.ChecksumIEEE(p[start:]))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, 30000)
	ihdr = binary.BigEndian.AppendUint32(ihdr, 30000)
	chunk("IHDR", append(ihdr, 8, 2, 0, 0, 0))
	chunk("IDAT", []byte{0x78, 0x9c, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01})
	chunk("IEND", nil)
	return p
}

// result of one request.
type result struct {
	kind   *kind
	status int // 0: no complete answer (transport error or truncated body)
	id     string
	err    error
	start  time.Time
	dur    time.Duration
}

type sender struct {
	url, key string
	hc       *http.Client
}

func newSender(url, key string) *sender {
	return &sender{url: url, key: key, hc: &http.Client{Timeout: 3 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}}
}

func (s *sender) send(ctx context.Context, k *kind) result {
	r := result{kind: k, start: time.Now()}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url+"/v1/faceswap-v3-multifaceswap", bytes.NewReader(k.body))
	if err != nil {
		r.err = err
		return r
	}
	key := s.key
	if k.key != "" {
		key = k.key
	}
	req.Header.Set("x-api-key", key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.hc.Do(req)
	if err != nil {
		r.err, r.dur = err, time.Since(r.start)
		return r
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	r.dur = time.Since(r.start)
	if err != nil || resp.ContentLength >= 0 && n != resp.ContentLength {
		r.err = fmt.Errorf("status %d but the body ended after %d of %d bytes: %v", resp.StatusCode, n, resp.ContentLength, err)
		return r
	}
	r.status, r.id = resp.StatusCode, resp.Header.Get("X-Request-Id")
	return r
}

// openLoop sends good requests at rate per second and bad ones at badRate
// (open loop: arrivals do not wait for answers) until stop is closed or
// until d has passed, and returns every result once all are answered.
func openLoop(s *sender, good, bad []kind, rate, badRate float64, d time.Duration, stop <-chan struct{}) []result {
	var (
		mu  sync.Mutex
		out []result
		wg  sync.WaitGroup
	)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	total := rate + badRate
	end := time.Now().Add(d)
	next := time.Now()
	for i := 0; time.Now().Before(end); i++ {
		// Poisson arrivals at the total rate; each is good or bad in
		// proportion.
		next = next.Add(time.Duration(rng.ExpFloat64() / total * float64(time.Second)))
		select {
		case <-stop:
			wg.Wait()
			return out
		case <-time.After(time.Until(next)):
		}
		var k *kind
		if rng.Float64() < rate/total {
			k = &good[rng.IntN(len(good))]
		} else {
			k = &bad[rng.IntN(len(bad))]
		}
		wg.Go(func() {
			r := s.send(ctx, k)
			mu.Lock()
			out = append(out, r)
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

// capacity measures the good requests a server answers per second when
// kept busy (closed loop, two clients per worker). The ids of its 200s are
// added to ok, as they are charged too.
func capacity(s *sender, good []kind, clients int, d time.Duration, ok map[string]bool) (float64, error) {
	ctx := context.Background()
	var (
		mu   sync.Mutex
		done int
		bad  error
		wg   sync.WaitGroup
	)
	t0 := time.Now().Add(d / 4)
	t1 := t0.Add(d)
	for i := range clients {
		wg.Go(func() {
			for k := i; time.Now().Before(t1); k++ {
				r := s.send(ctx, &good[k%len(good)])
				mu.Lock()
				if r.status != 200 && bad == nil {
					bad = fmt.Errorf("%s: status %d %v", r.kind.name, r.status, r.err)
				}
				if r.status == 200 {
					ok[r.id] = true
				}
				if now := time.Now(); now.After(t0) && !now.After(t1) {
					done++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return float64(done) / d.Seconds(), bad
}

// ledger is what the store recorded for the key.
type ledger struct {
	ids     map[string]bool
	charged int64 // sum of costs
	balance int64
}

func readLedger(db string) (ledger, error) {
	conn, err := sql.Open("sqlite", "file:"+db+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return ledger{}, err
	}
	defer conn.Close()
	l := ledger{ids: map[string]bool{}}
	rows, err := conn.Query(`SELECT request_id, cost FROM usage`)
	if err != nil {
		return ledger{}, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var cost int64
		if err := rows.Scan(&id, &cost); err != nil {
			return ledger{}, err
		}
		l.ids[id] = true
		l.charged += cost
	}
	if err := rows.Err(); err != nil {
		return ledger{}, err
	}
	err = conn.QueryRow(`SELECT credits + free_credits FROM keys`).Scan(&l.balance)
	return l, err
}

const startCredits = 100_000_000

// setup makes the folder, the database and the key.
func setup(c Config) (dir, db, key string, err error) {
	dir, err = os.MkdirTemp("", "faceswap-soak-")
	if err != nil {
		return "", "", "", err
	}
	db = filepath.Join(dir, "soak.db")
	key, err = serverproc.CreateKey(c.Bin, db, startCredits, 10_000_000)
	return dir, db, key, err
}

// SoakResult is what the soak found.
type SoakResult struct {
	Capacity, Rate, BadRate float64
	Duration, Sample        time.Duration
	Statuses                map[string]map[int]int // by request kind
	Unexpected              []string               // answers a request did not deserve
	TransportErrors         int
	P50, P95                time.Duration // of the 200s
	OK200                   int           // during the soak
	Capacity200             int           // while measuring the capacity (charged too)
	RSS, Goroutines         series
	Ledger                  ledger
	LedgerProblems          []string
	ServerLog5xx            int
}

type series struct {
	Samples []float64
	Warm    int // samples in the warm-up
}

// Flat reports whether the samples after the warm-up stay within ±10% of
// their median, and the largest deviation.
func (s series) Flat() (bool, float64) {
	after := s.Samples[min(s.Warm, len(s.Samples)):]
	if len(after) == 0 {
		return false, math.NaN()
	}
	med := stats.Median(after)
	worst := 0.0
	for _, v := range after {
		worst = math.Max(worst, math.Abs(v-med)/med)
	}
	return worst <= 0.10, worst
}

func (s series) describe(unit string) string {
	after := s.Samples[min(s.Warm, len(s.Samples)):]
	if len(after) == 0 {
		return "no samples"
	}
	lo, hi := slices.Min(after), slices.Max(after)
	ok, dev := s.Flat()
	verdict := "flat"
	if !ok {
		verdict = "NOT flat"
	}
	third := max(1, len(after)/3)
	return fmt.Sprintf("%s: median %.0f%s, range %.0f-%.0f, largest deviation %.1f%% (%d samples after %d of warm-up); first third %.0f, last third %.0f",
		verdict, stats.Median(after), unit, lo, hi, 100*dev, len(after), s.Warm, stats.Mean(after[:third]), stats.Mean(after[len(after)-third:]))
}

// OK reports whether every check passed.
func (r *SoakResult) OK() bool {
	rssOK, _ := r.RSS.Flat()
	gorOK, _ := r.Goroutines.Flat()
	return len(r.Unexpected) == 0 && r.TransportErrors == 0 && rssOK && gorOK && len(r.LedgerProblems) == 0 && r.ServerLog5xx == 0
}

func (r *SoakResult) Print(w io.Writer) {
	fmt.Fprintf(w, "\nsoak: %v; capacity %.2f good req/s; sent good at %.2f/s (×%.2f) and bad at %.2f/s\n",
		r.Duration, r.Capacity, r.Rate, r.Rate/r.Capacity, r.BadRate)
	var names []string
	for n := range r.Statuses {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-20s %s\n", n, statusString(r.Statuses[n]))
	}
	fmt.Fprintf(w, "  200s: %d, p50 %v, p95 %v; transport errors %d; unexpected answers %d; server log 5xx other than 503: %d\n",
		r.OK200, r.P50.Round(time.Millisecond), r.P95.Round(time.Millisecond), r.TransportErrors, len(r.Unexpected), r.ServerLog5xx)
	for i, u := range r.Unexpected {
		if i == 10 {
			fmt.Fprintf(w, "    … %d more\n", len(r.Unexpected)-10)
			break
		}
		fmt.Fprintf(w, "    %s\n", u)
	}
	fmt.Fprintf(w, "  RSS (means over %v) %s\n", r.Sample, r.RSS.describe(" MB"))
	fmt.Fprintf(w, "  goroutines (means over %v) %s\n", r.Sample, r.Goroutines.describe(""))
	fmt.Fprintf(w, "  ledger: %d usage rows, %d credits charged, balance %d of %d; 200s answered %d (%d during the soak, %d while measuring the capacity)\n",
		len(r.Ledger.ids), r.Ledger.charged, r.Ledger.balance, startCredits, r.OK200+r.Capacity200, r.OK200, r.Capacity200)
	for _, p := range r.LedgerProblems {
		fmt.Fprintf(w, "    %s\n", p)
	}
}

// Soak runs the soak.
func Soak(c Config) (*SoakResult, error) {
	dir, db, key, err := setup(c)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	good, bad, err := requests(c)
	if err != nil {
		return nil, err
	}
	logf := filepath.Join(dir, "server.log")
	srv, err := serverproc.Start(serverproc.Options{Bin: c.Bin, DB: db, Log: logf})
	if err != nil {
		return nil, err
	}
	defer func() {
		if !srv.Exited() {
			srv.Kill()
		}
	}()
	s := newSender(srv.URL, key)
	r := &SoakResult{Duration: c.Duration, Sample: c.Sample, Statuses: map[string]map[int]int{}}
	r.Capacity = c.Capacity
	got200 := map[string]bool{}
	if r.Capacity <= 0 {
		c.logf("measuring capacity")
		if r.Capacity, err = capacity(s, good, 2*runtime.NumCPU(), 20*time.Second, got200); err != nil {
			return nil, err
		}
		r.Capacity200 = len(got200)
	}
	r.Rate = c.Factor * r.Capacity
	r.BadRate = r.Rate / 3 // a quarter of the traffic
	c.logf("capacity %.2f/s: sending good requests at %.2f/s and bad ones at %.2f/s for %v", r.Capacity, r.Rate, r.BadRate, c.Duration)

	// Sample memory and goroutines while the load runs: each sample is the
	// mean of reads every 500 ms over the sampling period, as both move
	// with the requests in flight at the moment of a read.
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Go(func() {
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		var rss, gor []float64
		next := time.Now().Add(c.Sample)
		for {
			select {
			case <-stop:
				return
			case now := <-tick.C:
				m, _ := srv.Memory()
				rss = append(rss, float64(m)/(1<<20))
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				if g, err := srv.Metric(ctx, "go_goroutines"); err == nil {
					gor = append(gor, g)
				}
				cancel()
				if now.After(next) {
					r.RSS.Samples = append(r.RSS.Samples, stats.Mean(rss))
					if len(gor) > 0 {
						r.Goroutines.Samples = append(r.Goroutines.Samples, stats.Mean(gor))
					}
					rss, gor, next = nil, nil, next.Add(c.Sample)
				}
			}
		}
	})
	results := openLoop(s, good, bad, r.Rate, r.BadRate, c.Duration, nil)
	close(stop)
	sampler.Wait()
	warm := int(math.Ceil(0.2 * c.Duration.Seconds() / c.Sample.Seconds())) // the first fifth
	r.RSS.Warm, r.Goroutines.Warm = warm, warm

	var lat []float64
	for _, res := range results {
		name := res.kind.name
		if r.Statuses[name] == nil {
			r.Statuses[name] = map[int]int{}
		}
		r.Statuses[name][res.status]++
		switch {
		case res.err != nil:
			r.TransportErrors++
			r.Unexpected = append(r.Unexpected, fmt.Sprintf("%s: %v", name, res.err))
		case res.status != res.kind.want && res.status != http.StatusServiceUnavailable:
			r.Unexpected = append(r.Unexpected, fmt.Sprintf("%s: status %d, want %d or 503 (request %s)", name, res.status, res.kind.want, res.id))
		}
		if res.status == 200 {
			r.OK200++
			got200[res.id] = true
			lat = append(lat, float64(res.dur))
		}
	}
	r.P50, r.P95 = time.Duration(stats.Percentile(lat, 0.5)), time.Duration(stats.Percentile(lat, 0.95))
	if err := srv.Stop(); err != nil {
		return nil, err
	}
	if r.Ledger, err = readLedger(db); err != nil {
		return nil, err
	}
	r.LedgerProblems, _ = compare(r.Ledger, got200, 0)
	r.ServerLog5xx = count5xx(logf)
	return r, nil
}

// compare lists the differences between the ledger and the 200s received.
// cutOff is how many answers kills cut off so far: a request charged, its
// answer not yet wholly sent when the process died, is charged without its
// 200 arriving (the server cannot know the bytes it wrote were received),
// and the request's id, which the server gives, never reached the client.
// Up to cutOff such charges are that window (counted in window), not
// problems.
func compare(l ledger, got200 map[string]bool, cutOff int) (problems []string, window int) {
	for id := range got200 {
		if !l.ids[id] {
			problems = append(problems, "200 without a charge: request "+id)
		}
	}
	var unanswered []string
	for id := range l.ids {
		if !got200[id] {
			unanswered = append(unanswered, id)
		}
	}
	if len(unanswered) <= cutOff {
		window = len(unanswered)
	} else {
		for _, id := range unanswered {
			problems = append(problems, "charged without a 200 received: request "+id)
		}
	}
	if int64(len(l.ids)) != l.charged {
		problems = append(problems, fmt.Sprintf("%d usage rows but %d credits charged (cost 1 each)", len(l.ids), l.charged))
	}
	if startCredits-l.balance != l.charged {
		problems = append(problems, fmt.Sprintf("the balance fell by %d but the usage rows sum to %d", startCredits-l.balance, l.charged))
	}
	return problems, window
}

func count5xx(logf string) int {
	data, err := os.ReadFile(logf)
	if err != nil {
		return -1
	}
	n := 0
	for _, line := range strings.Split(string(data), "\n") {
		if strings.Contains(line, `"status":5`) && !strings.Contains(line, `"status":503`) {
			n++
		}
		if strings.Contains(line, "panic") {
			n++
		}
	}
	return n
}

// CrashRound is one kill and restart.
type CrashRound struct {
	After      time.Duration // load before the kill
	Sent       int
	OK200      int // complete 200s received, this round
	Incomplete int // answers cut by the kill (transport errors)
	Other      map[int]int
	Rows       int // usage rows after the restart, all rounds
	Window     int // of those, charged with the answer cut off by a kill (all rounds; compare)
	Problems   []string
	Restart    time.Duration // process start to ready after the kill
}

type CrashResult struct {
	Rate   float64
	Rounds []CrashRound
}

func (r *CrashResult) OK() bool {
	for _, rd := range r.Rounds {
		if len(rd.Problems) > 0 {
			return false
		}
	}
	return len(r.Rounds) > 0
}

func (r *CrashResult) Print(w io.Writer) {
	fmt.Fprintf(w, "\ncrash: %d SIGKILLs under load (good requests at %.2f/s)\n", len(r.Rounds), r.Rate)
	for i, rd := range r.Rounds {
		verdict := "ledger = 200s received"
		if rd.Window > 0 {
			verdict = fmt.Sprintf("ledger = 200s received and %d charged whose answers the kills cut off", rd.Window)
		}
		if len(rd.Problems) > 0 {
			verdict = "MISMATCH: " + strings.Join(rd.Problems, "; ")
		}
		fmt.Fprintf(w, "  kill %d after %v: %d sent, %d complete 200s, %d cut off, other %s; restarted in %v; %d usage rows in all: %s\n",
			i+1, rd.After.Round(100*time.Millisecond), rd.Sent, rd.OK200, rd.Incomplete, statusString(rd.Other), rd.Restart.Round(time.Millisecond), rd.Rows, verdict)
	}
}

// Crash runs the crash test: kills under load, restarts on the same
// database, ledger checked after each restart.
func Crash(c Config) (*CrashResult, error) {
	dir, db, key, err := setup(c)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	good, _, err := requests(c)
	if err != nil {
		return nil, err
	}
	logf := filepath.Join(dir, "server.log")
	start := func() (*serverproc.Server, error) {
		return serverproc.Start(serverproc.Options{Bin: c.Bin, DB: db, Log: logf})
	}
	srv, err := start()
	if err != nil {
		return nil, err
	}
	defer func() {
		if !srv.Exited() {
			srv.Kill()
		}
	}()
	capa := c.Capacity
	got200 := map[string]bool{}
	if capa <= 0 {
		if capa, err = capacity(newSender(srv.URL, key), good, 2*runtime.NumCPU(), 10*time.Second, got200); err != nil {
			return nil, err
		}
	}
	res := &CrashResult{Rate: c.Factor * capa}
	cutOff := 0 // answers cut off by the kills so far
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 11))
	for i := range c.Kills {
		after := time.Duration(3+rng.Float64()*7) * time.Second
		c.logf("kill %d of %d: load for %v, then SIGKILL", i+1, c.Kills, after.Round(100*time.Millisecond))
		stop := make(chan struct{})
		var results []result
		var wg sync.WaitGroup
		wg.Go(func() { results = openLoop(newSender(srv.URL, key), good, nil, res.Rate, 0, time.Hour, stop) })
		time.Sleep(after)
		srv.Kill()
		close(stop)
		wg.Wait()
		rd := CrashRound{After: after, Sent: len(results), Other: map[int]int{}}
		for _, r := range results {
			switch {
			case r.err != nil:
				rd.Incomplete++
			case r.status == 200:
				rd.OK200++
				got200[r.id] = true
			default:
				rd.Other[r.status]++
			}
		}
		if srv, err = start(); err != nil {
			return nil, fmt.Errorf("restart after kill %d: %w", i+1, err)
		}
		rd.Restart = srv.Ready
		l, err := readLedger(db)
		if err != nil {
			return nil, err
		}
		rd.Rows = len(l.ids)
		cutOff += rd.Incomplete
		rd.Problems, rd.Window = compare(l, got200, cutOff)
		res.Rounds = append(res.Rounds, rd)
	}
	if err := srv.Stop(); err != nil {
		return nil, err
	}
	return res, nil
}

func statusString(m map[int]int) string {
	var keys []int
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	var parts []string
	for _, k := range keys {
		name := strconv.Itoa(k)
		if k == 0 {
			name = "no answer"
		}
		parts = append(parts, fmt.Sprintf("%d×%s", m[k], name))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}
