package api

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/whet-dev/whet/internal/jobs"
)

// metrics is the server's own Prometheus registry (no global state).
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec

	// series caches the label children per (route, method, status), so a
	// request skips the vectors' label hashing and status formatting.
	series sync.Map // seriesKey → *seriesPair
}

type seriesKey struct {
	route, method string
	status        int
}

type seriesPair struct {
	count   prometheus.Counter
	latency prometheus.Observer
}

func newMetrics(q *jobs.Queue) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "whet_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "whet_http_request_duration_seconds", Help: "HTTP request latency by route and method.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
	}
	m.reg.MustRegister(m.requests, m.latency, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if q != nil {
		m.reg.MustRegister(&jobCollector{q: q, desc: prometheus.NewDesc("whet_jobs", "Jobs by state.", []string{"state"}, nil)})
	}
	return m
}

func (m *metrics) observe(method, route string, status int, d time.Duration) {
	k := seriesKey{route: route, method: method, status: status}
	v, ok := m.series.Load(k)
	if !ok {
		// Routes are the registered patterns or "unmatched", and statuses
		// are few, so the cache stays small.
		v, _ = m.series.LoadOrStore(k, &seriesPair{
			count:   m.requests.WithLabelValues(route, method, strconv.Itoa(status)),
			latency: m.latency.WithLabelValues(route, method),
		})
	}
	sp := v.(*seriesPair)
	sp.count.Inc()
	sp.latency.Observe(d.Seconds())
}

// jobCollector reports job counts by state at scrape time.
type jobCollector struct {
	q    *jobs.Queue
	desc *prometheus.Desc
}

// Describe implements prometheus.Collector.
func (c *jobCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector; it counts jobs at scrape time.
func (c *jobCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := c.q.Counts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for _, st := range []jobs.Status{jobs.StatusQueued, jobs.StatusRunning, jobs.StatusSucceeded, jobs.StatusFailed, jobs.StatusCancelled} {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(counts[st]), string(st))
	}
}
