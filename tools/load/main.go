// Command load drives a running faceswap server with the seed-shaped swap
// request (three faces into the 1280×853 office photo, images sent as
// base64) and reports status counts, latency percentiles, throughput and the
// server's peak memory.
//
// With -measure it first finds the server's capacity: sequential requests,
// one in flight, whose rate is also the p50 with nothing queued. Then it
// sends requests at -factor times that rate (open loop: a fixed arrival
// rate, however slow the answers) for -duration.
//
//	go run ./tools/load -url http://127.0.0.1:8080 -key KEY -measure -factor 2 -duration 60s -pid PID
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:8080", "server base URL (loopback only)")
	key := flag.String("key", "", "API key")
	measure := flag.Bool("measure", false, "measure capacity with one request in flight first")
	warm := flag.Int("warm", 5, "sequential requests for -measure")
	rate := flag.Float64("rate", 0, "requests per second (default: factor × measured capacity)")
	factor := flag.Float64("factor", 2, "multiple of the measured capacity")
	duration := flag.Duration("duration", 60*time.Second, "how long to send")
	pid := flag.Int("pid", 0, "server process id, to sample its memory")
	testdata := flag.String("testdata", filepath.Join("..", "shared", "testdata"), "shared test photos")
	flag.Parse()
	if !strings.HasPrefix(*url, "http://127.") && !strings.HasPrefix(*url, "http://localhost") && !strings.HasPrefix(*url, "http://[::1]") {
		fail("refusing to load a server that is not on this machine: %s", *url)
	}
	body, err := seedRequest(*testdata)
	if err != nil {
		fail("%v", err)
	}
	client := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	send := func() (int, time.Duration) {
		req, _ := http.NewRequest("POST", *url+"/v1/faceswap-v3-multifaceswap", bytes.NewReader(body))
		req.Header.Set("x-api-key", *key)
		req.Header.Set("Content-Type", "application/json")
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return -1, time.Since(start)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, time.Since(start)
	}
	if *measure {
		var lat []time.Duration
		for i := 0; i < *warm+1; i++ {
			code, d := send()
			if code != 200 {
				fail("measuring: status %d", code)
			}
			if i > 0 { // the first request warms the server
				lat = append(lat, d)
			}
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		p50 := lat[len(lat)/2]
		fmt.Printf("one in flight: p50 %v over %d requests -> capacity %.2f req/s\n", p50.Round(time.Millisecond), len(lat), 1/p50.Seconds())
		if *rate == 0 {
			*rate = *factor / p50.Seconds()
		}
	}
	if *rate <= 0 {
		fail("give -rate or -measure")
	}
	var (
		mu      sync.Mutex
		codes   = map[int]int{}
		lat     []time.Duration
		wg      sync.WaitGroup
		peakRSS int64
	)
	stop := make(chan struct{})
	if *pid > 0 {
		go func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(200 * time.Millisecond):
					if r := rss(*pid); r > peakRSS {
						peakRSS = r
					}
				}
			}
		}()
	}
	fmt.Printf("sending %.2f req/s for %v\n", *rate, *duration)
	interval := time.Duration(float64(time.Second) / *rate)
	start := time.Now()
	n := 0
	for next := start; time.Since(start) < *duration; next = next.Add(interval) {
		time.Sleep(time.Until(next))
		n++
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, d := send()
			mu.Lock()
			codes[code]++
			if code == 200 {
				lat = append(lat, d)
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(stop)
	elapsed := time.Since(start)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))].Round(time.Millisecond)
	}
	var keys []int
	for c := range codes {
		keys = append(keys, c)
	}
	sort.Ints(keys)
	fmt.Printf("sent %d in %v:", n, elapsed.Round(time.Second))
	bad := 0
	for _, c := range keys {
		fmt.Printf(" %d×%d", codes[c], c)
		if c != 200 && c != 429 && c != 503 {
			bad += codes[c]
		}
	}
	fmt.Printf("\n200s: p50 %v, p95 %v, throughput %.2f/s", pct(0.5), pct(0.95), float64(codes[200])/elapsed.Seconds())
	if peakRSS > 0 {
		fmt.Printf(", server peak RSS %d MB", peakRSS>>20)
	}
	fmt.Println()
	if bad > 0 {
		fail("%d answers were neither 200, 429 nor 503", bad)
	}
}

// seedRequest is the seed example's request with the two images sent as
// base64: the Apollo crew (three faces) into the office photo (1280×853).
func seedRequest(testdata string) ([]byte, error) {
	src, err := os.ReadFile(filepath.Join(testdata, "images", "group3_apollo11_crew.jpg"))
	if err != nil {
		return nil, err
	}
	dst, err := os.ReadFile(filepath.Join(testdata, "images", "group5_office_meeting.jpg"))
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"source_img":           base64.StdEncoding.EncodeToString(src),
		"target_img":           base64.StdEncoding.EncodeToString(dst),
		"input_faces_index":    "0,1,2",
		"source_faces_index":   "0,1,2",
		"face_restore":         "disable",
		"interpolation":        "Bilinear",
		"detection_face_order": "left-right",
		"facedetection":        "retinaface_resnet50",
		"detect_gender_input":  "no",
		"detect_gender_source": "no",
		"face_restore_weight":  0.75,
		"image_format":         "jpeg",
		"image_quality":        95,
		"base64":               false,
	})
}

// rss returns a process's resident memory in bytes (Linux).
func rss(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "load: "+format+"\n", args...)
	os.Exit(1)
}
