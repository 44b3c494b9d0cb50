// Package serverproc runs throwaway faceswap servers for the measuring
// tools (tools/bench, tools/soak): the real binary in a process of its own,
// on a free loopback port, with its own SQLite database, so what is
// measured is what an operator runs — start-up, memory, crashes included.
package serverproc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Options say how to start a server.
type Options struct {
	Bin  string   // the faceswap binary
	DB   string   // its SQLite database (FACESWAP_DB)
	Log  string   // file the server's output is appended to
	Args []string // flags after "serve", e.g. "--workers", "1"
	Env  []string // extra KEY=VALUE pairs
	// ReadyTimeout bounds the wait for /readyz (default 60 s).
	ReadyTimeout time.Duration
}

// Server is one running server process.
type Server struct {
	URL   string        // http://127.0.0.1:PORT
	Ready time.Duration // from the process start to the first 200 of /readyz
	cmd   *exec.Cmd
	done  chan struct{}
	err   error // the process's exit, once done is closed
}

// CreateKey makes an API key in the database db with the binary bin and
// returns its secret.
func CreateKey(bin, db string, credits int64, ratePerMinute int) (string, error) {
	cmd := exec.Command(bin, "keys", "create", "--name", "bench", "--credits", strconv.FormatInt(credits, 10),
		"--rate-per-minute", strconv.Itoa(ratePerMinute))
	cmd.Env = append(os.Environ(), "FACESWAP_DB="+db, "FACESWAP_DATABASE_URL=")
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("faceswap keys create: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return strings.TrimSpace(lines[len(lines)-1]), nil
}

// FreePort returns a loopback port nothing listens on.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Start starts a server and waits until /readyz answers 200.
func Start(o Options) (*Server, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	log, err := os.OpenFile(o.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer log.Close()
	addr := "127.0.0.1:" + strconv.Itoa(port)
	args := append([]string{"serve", "--addr", addr}, o.Args...)
	cmd := exec.Command(o.Bin, args...)
	cmd.Env = append(append(os.Environ(), "FACESWAP_DB="+o.DB, "FACESWAP_DATABASE_URL=", "FACESWAP_REDIS_URL="), o.Env...)
	cmd.Stdout, cmd.Stderr = log, log
	s := &Server{URL: "http://" + addr, cmd: cmd, done: make(chan struct{})}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() { s.err = cmd.Wait(); close(s.done) }()
	timeout := o.ReadyTimeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get(s.URL + "/readyz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				s.Ready = time.Since(start)
				return s, nil
			}
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("the server exited before it was ready (%v); see %s", s.err, o.Log)
		case <-time.After(2 * time.Millisecond):
		}
		if time.Since(start) > timeout {
			s.Kill()
			return nil, fmt.Errorf("the server was not ready after %v; see %s", timeout, o.Log)
		}
	}
}

// Pid is the server's process id.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Stop asks the server to shut down gracefully (SIGTERM) and waits.
func (s *Server) Stop() error {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(2 * time.Minute):
		s.Kill()
		return errors.New("the server did not stop within 2 minutes of SIGTERM; killed")
	}
	var ee *exec.ExitError
	if errors.As(s.err, &ee) {
		return fmt.Errorf("the server stopped with %v", s.err)
	}
	return s.err
}

// Kill kills the server at once (SIGKILL) and waits for it to be gone.
func (s *Server) Kill() {
	s.cmd.Process.Kill()
	<-s.done
}

// Exited reports whether the process has ended.
func (s *Server) Exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Memory returns the server's resident memory now (VmRSS) and its peak so
// far (VmHWM), in bytes.
func (s *Server) Memory() (rss, peak int64) {
	return status(s.Pid(), "VmRSS:"), status(s.Pid(), "VmHWM:")
}

func status(pid int, field string) int64 {
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fs := strings.Fields(sc.Text()); len(fs) >= 2 && fs[0] == field {
			kb, _ := strconv.ParseInt(fs[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// Metric reads one unlabelled sample of the server's /metrics (e.g.
// "go_goroutines").
func (s *Server) Metric(ctx context.Context, name string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			return strconv.ParseFloat(strings.TrimSpace(rest), 64)
		}
	}
	return 0, fmt.Errorf("%s not found in /metrics", name)
}
