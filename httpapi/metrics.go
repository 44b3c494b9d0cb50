package httpapi

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the Prometheus metrics of the service, in a registry of
// their own (so several servers can live in one test process).
type Metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec   // by route and status
	latency      *prometheus.HistogramVec // by route
	stages       *prometheus.HistogramVec // by pipeline stage
	faces        prometheus.Histogram     // faces swapped per successful request
	queueDepth   prometheus.Gauge         // admitted, waiting for a worker
	inFlight     prometheus.Gauge         // running on a worker
	httpInFlight prometheus.Gauge         // HTTP requests being served
	rejected     prometheus.Counter       // 503s of a full queue
	charged      prometheus.Counter       // credits charged
	modelLoad    prometheus.Gauge         // seconds the models took to load
}

// NewMetrics makes the metrics. A nil reg gets a fresh registry with the
// Go and process collectors.
func NewMetrics(reg *prometheus.Registry) *Metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	stageBuckets := []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}
	m := &Metrics{
		reg: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "faceswap_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "faceswap_http_request_duration_seconds", Help: "HTTP request latency by route, from arrival to the last byte.",
			Buckets: stageBuckets,
		}, []string{"route"}),
		stages: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "faceswap_stage_duration_seconds", Help: "Time spent per stage of successful requests: fetch, queue, decode, detect, select, swap, encode.",
			Buckets: stageBuckets,
		}, []string{"stage"}),
		faces: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "faceswap_faces_swapped", Help: "Faces swapped per successful request.",
			Buckets: []float64{1, 2, 3, 4, 5, 6, 8, 10, 15, 20},
		}),
		queueDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "faceswap_queue_depth", Help: "Requests admitted and waiting for a worker (or fetching their images).",
		}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "faceswap_in_flight", Help: "Requests running on a worker.",
		}),
		httpInFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "faceswap_http_in_flight", Help: "HTTP requests being served, of every route.",
		}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "faceswap_overload_rejections_total", Help: "Requests answered 503 because every worker was busy and the queue was full.",
		}),
		charged: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "faceswap_credits_charged_total", Help: "Credits charged for successful requests.",
		}),
		modelLoad: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "faceswap_model_load_seconds", Help: "Seconds the models took to load at start.",
		}),
	}
	reg.MustRegister(m.requests, m.latency, m.stages, m.faces, m.queueDepth, m.inFlight, m.httpInFlight, m.rejected, m.charged, m.modelLoad)
	return m
}

// SetModelLoadSeconds records how long the models took to load.
func (m *Metrics) SetModelLoadSeconds(s float64) { m.modelLoad.Set(s) }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
