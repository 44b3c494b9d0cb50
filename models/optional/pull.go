package optional

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"faceswap"
	"faceswap/models"
)

// PullOptions tune Manifest.Pull.
type PullOptions struct {
	// Client makes the request; nil: a client without an overall time
	// limit (the context bounds the download) that gives up on a server
	// that does not answer within a minute.
	Client *http.Client
	// URL overrides the manifest's download location (a mirror). The
	// published sha256, when known, is still required.
	URL string
	// Progress receives a progress bar when it is a terminal, else a line
	// of percentages; nil: none.
	Progress io.Writer
	// Log receives the licence, notices and the result; nil: none.
	Log io.Writer
}

var defaultClient = &http.Client{Transport: func() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = time.Minute
	return t
}()}

// Pull downloads the optional model name from its public home (or
// opt.URL) into the models folder. The bytes collect in onnx/FILE.part: a
// pull that stops half way (connection lost, interrupted) keeps it, and
// the next pull asks the server for the rest with a Range request. A
// complete download must have the published sha256 when one is known (else
// the part is removed) and must fit the model's role; then it is renamed
// into place, so the models folder never holds a partial model. Pull
// prints the model's licence first, with a notice when it forbids
// commercial use.
func (o *Manifest) Pull(ctx context.Context, p models.Paths, name string, opt PullOptions) (Status, error) {
	m, err := o.Lookup(name)
	if err != nil {
		return Status{}, err
	}
	src := opt.URL
	if src == "" {
		src = m.URL
	}
	if src == "" {
		return Status{}, faceswap.Errorf(http.StatusBadRequest,
			"model %s cannot be pulled: %s (or pass --url with a download of the same file)", m.Name, m.InstallHint())
	}
	if u, err := url.Parse(src); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Status{}, faceswap.Errorf(http.StatusBadRequest, "model %s: %q is not an http(s) URL", m.Name, src)
	}
	log := opt.Log
	if log == nil {
		log = io.Discard
	}
	if s := o.status(p, m); opt.URL == "" && s.Verified && s.Published {
		fmt.Fprintf(log, "%s: already installed and verified (%s); `faceswap models rm %s` first to download it again\n", m.Name, s.Path, m.Name)
		return s, nil
	}
	fmt.Fprintf(log, "%s: licence: %s\n", m.Name, m.License)
	if m.NonCommercial {
		fmt.Fprintf(log, "NOTICE: %s may be used for non-commercial purposes only. Using it in a commercial service needs a licence from its authors (%s).\n", m.Name, m.Home)
	}
	if m.Notice != "" {
		fmt.Fprintf(log, "NOTICE: %s\n", m.Notice)
	}
	if m.SHA256 == "" {
		fmt.Fprintf(log, "%s: no published sha256 is known: the download's integrity cannot be verified, only that its inputs and outputs fit a %s\n", m.Name, m.Role)
	}
	client := opt.Client
	if client == nil {
		client = defaultClient
	}
	part := partFile(p, m)
	if err := os.MkdirAll(p.ONNXDir(), 0o755); err != nil {
		return Status{}, err
	}
	sum, size, err := download(ctx, client, src, part, m, opt.Progress)
	if err != nil {
		return Status{}, err
	}
	if m.SHA256 != "" && sum != m.SHA256 {
		os.Remove(part)
		return Status{}, fmt.Errorf("%w: the download of model %s from %s has sha256 %s, the published file has %s: it is damaged or not the same file (removed; run the command again, or use another --url)",
			ErrChecksum, m.Name, src, sum, m.SHA256)
	}
	if err := o.fitFile(m, part); err != nil {
		os.Remove(part)
		return Status{}, err
	}
	dst := File(p, m)
	if err := os.Chmod(part, 0o644); err != nil {
		return Status{}, err
	}
	if err := os.Rename(part, dst); err != nil {
		return Status{}, err
	}
	if err := o.record(p, m, sum, src); err != nil {
		return Status{}, err
	}
	how := "sha256 matches the published one"
	if m.SHA256 == "" {
		how = "no published sha256 to compare; recorded sha256 " + sum
	}
	fmt.Fprintf(log, "%s: installed %s (%d bytes; %s)\n", m.Name, dst, size, how)
	return o.status(p, m), nil
}

// download fetches src into part, resuming what part already holds, and
// returns the sha256 and size of the complete file.
func download(ctx context.Context, client *http.Client, src, part string, m Model, progress io.Writer) (string, int64, error) {
	f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	for attempt := 0; ; attempt++ {
		have, err := f.Seek(0, io.SeekEnd)
		if err != nil {
			return "", 0, err
		}
		sum, size, restart, err := fetchRange(ctx, client, src, f, have, m, progress)
		if restart && attempt == 0 {
			if err := f.Truncate(0); err != nil {
				return "", 0, err
			}
			continue
		}
		if syncErr := f.Sync(); err == nil {
			err = syncErr
		}
		return sum, size, err
	}
}

// fetchRange makes one request for the bytes from have on and appends them to
// f. restart asks for a fresh download (the server's answer does not fit
// what f holds).
func fetchRange(ctx context.Context, client *http.Client, src string, f *os.File, have int64, m Model, progress io.Writer) (sum string, size int64, restart bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return "", 0, false, err
	}
	if have > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", have))
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", 0, false, fmt.Errorf("download of model %s from %s: %w%s", m.Name, src, err, resumeHint(have))
	}
	defer resp.Body.Close()
	total := int64(-1)
	switch resp.StatusCode {
	case http.StatusOK:
		if have > 0 {
			// The server ignores ranges: start over.
			if err := f.Truncate(0); err != nil {
				return "", 0, false, err
			}
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return "", 0, false, err
			}
			have = 0
		}
		total = resp.ContentLength
	case http.StatusPartialContent:
		start, t, ok := contentRange(resp.Header.Get("Content-Range"))
		if !ok || start != have {
			return "", 0, true, fmt.Errorf("download of model %s: the server answered the range request from byte %d with %q", m.Name, have, resp.Header.Get("Content-Range"))
		}
		total = t
	case http.StatusRequestedRangeNotSatisfiable:
		// Nothing after byte have: complete if the server's size says so.
		if _, t, _ := contentRange(resp.Header.Get("Content-Range")); t != have || have == 0 {
			return "", 0, true, fmt.Errorf("download of model %s: the server refuses to resume at byte %d (%s)", m.Name, have, resp.Status)
		}
		if m.SizeExact && have != m.Size {
			f.Truncate(0)
			return "", 0, false, fmt.Errorf("download of model %s from %s: the server offers %d bytes, the published file has %d: a different file (wrong --url?)", m.Name, src, have, m.Size)
		}
		h := sha256.New()
		if err := hashPrefix(h, f, have); err != nil {
			return "", 0, false, err
		}
		return hex.EncodeToString(h.Sum(nil)), have, false, nil
	default:
		return "", 0, false, fmt.Errorf("download of model %s from %s: %s", m.Name, src, resp.Status)
	}
	if m.SizeExact && total >= 0 && total != m.Size {
		f.Truncate(0)
		return "", 0, false, fmt.Errorf("download of model %s from %s: the server offers %d bytes, the published file has %d: a different file (wrong --url?)", m.Name, src, total, m.Size)
	}
	h := sha256.New()
	if have > 0 {
		if err := hashPrefix(h, f, have); err != nil {
			return "", 0, false, err
		}
	}
	pr := newProgress(progress, m.Name, have, total)
	n, err := io.Copy(io.MultiWriter(f, h, pr), resp.Body)
	got := have + n
	pr.finish(err == nil && (total < 0 || got == total))
	if err == nil && total >= 0 && got != total {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		of := ""
		if total >= 0 {
			of = fmt.Sprintf(" of %d", total)
		}
		return "", 0, false, fmt.Errorf("download of model %s stopped after %d%s bytes: %v%s", m.Name, got, of, err, resumeHint(got))
	}
	return hex.EncodeToString(h.Sum(nil)), got, false, nil
}

func resumeHint(have int64) string {
	if have > 0 {
		return fmt.Sprintf(" (the %d bytes received are kept: run the same command again to resume)", have)
	}
	return ""
}

// hashPrefix feeds the first n bytes of f to h and leaves f at its end.
func hashPrefix(h hash.Hash, f *os.File, n int64) error {
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, n)); err != nil {
		return err
	}
	_, err := f.Seek(n, io.SeekStart)
	return err
}

// contentRange parses "bytes START-END/TOTAL" or "bytes */TOTAL"; total
// is -1 when the server gives "*".
func contentRange(s string) (start, total int64, ok bool) {
	rest, found := strings.CutPrefix(s, "bytes ")
	if !found {
		return 0, -1, false
	}
	rng, tot, found := strings.Cut(rest, "/")
	if !found {
		return 0, -1, false
	}
	total = -1
	if tot != "*" {
		t, err := strconv.ParseInt(tot, 10, 64)
		if err != nil || t < 0 {
			return 0, -1, false
		}
		total = t
	}
	if rng == "*" {
		return 0, total, true
	}
	a, _, found := strings.Cut(rng, "-")
	st, err := strconv.ParseInt(a, 10, 64)
	if !found || err != nil || st < 0 {
		return 0, total, false
	}
	return st, total, true
}

// progress draws a bar on a terminal, else a line of percentages (every
// 10%), or the size reached when the total is unknown.
type progress struct {
	w           io.Writer
	tty         bool
	name        string
	start       int64 // bytes there were before this request
	done, total int64
	last        int64 // the percentage (or MB) last shown
	started     bool
}

func newProgress(w io.Writer, name string, done, total int64) *progress {
	if w == nil {
		w = io.Discard
	}
	pr := &progress{w: w, tty: isTerminal(w), name: name, start: done, done: done, total: total, last: -1}
	if !pr.tty && total > 0 {
		// The line counts in tens from where the download stands.
		pr.last = done*100/total/10*10 - 10
	}
	return pr
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func (pr *progress) Write(b []byte) (int, error) {
	pr.done += int64(len(b))
	pr.show()
	return len(b), nil
}

func (pr *progress) show() {
	if !pr.started {
		pr.started = true
		if !pr.tty {
			fmt.Fprintf(pr.w, "downloading %s:", pr.name)
			if pr.start > 0 {
				fmt.Fprintf(pr.w, " (resuming at %d bytes)", pr.start)
			}
		}
	}
	mb := pr.done >> 20
	if pr.total <= 0 {
		if mb != pr.last && (pr.tty || mb%50 == 0) {
			pr.last = mb
			if pr.tty {
				fmt.Fprintf(pr.w, "\r%s %d MB", pr.name, mb)
			} else {
				fmt.Fprintf(pr.w, " %d MB", mb)
			}
		}
		return
	}
	pct := pr.done * 100 / pr.total
	if pr.tty {
		if pct == pr.last {
			return
		}
		pr.last = pct
		const width = 30
		fill := int(pct * width / 100)
		fmt.Fprintf(pr.w, "\r%s [%s%s] %3d%% %d/%d MB", pr.name, strings.Repeat("#", fill), strings.Repeat(".", width-fill), pct, mb, pr.total>>20)
		return
	}
	for next := pr.last + 10; next <= pct; next += 10 {
		pr.last = next
		fmt.Fprintf(pr.w, " %d%%", next)
	}
}

// finish ends the progress output with a newline; ok says whether the
// download completed.
func (pr *progress) finish(ok bool) {
	pr.show()
	if !ok {
		fmt.Fprint(pr.w, " interrupted")
	} else if pr.total <= 0 && !pr.tty {
		fmt.Fprintf(pr.w, " done, %d bytes", pr.done)
	}
	fmt.Fprintln(pr.w)
}
