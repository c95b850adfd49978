package api

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/whet-dev/whet/internal/rag"
)

// indexCollector reports each retrieval index's freshness at scrape time:
// the upsert lag of its last dataset upsert and how stale it is against
// the dataset it follows.
type indexCollector struct {
	svc                  *rag.Service
	lag, staleness, last *prometheus.Desc
}

func newIndexCollector(svc *rag.Service) *indexCollector {
	labels := []string{"index_id", "project_id"}
	return &indexCollector{
		svc: svc,
		lag: prometheus.NewDesc("whet_index_upsert_lag_seconds",
			"Time from the indexed dataset version's creation to the end of the upsert that indexed it.", labels, nil),
		staleness: prometheus.NewDesc("whet_index_staleness_seconds",
			"How long the oldest dataset version the index has not indexed yet has existed (0 when current).", labels, nil),
		last: prometheus.NewDesc("whet_index_last_upsert_timestamp_seconds",
			"Unix time of the index's last upsert.", labels, nil),
	}
}

func (c *indexCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.lag
	ch <- c.staleness
	ch <- c.last
}

func (c *indexCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	list, err := c.svc.AllFreshness(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.lag, err)
		return
	}
	for _, f := range list {
		ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, f.UpsertLagSeconds, f.IndexID, f.ProjectID)
		ch <- prometheus.MustNewConstMetric(c.staleness, prometheus.GaugeValue, f.StalenessSeconds, f.IndexID, f.ProjectID)
		if f.LastUpsertAt != nil {
			ch <- prometheus.MustNewConstMetric(c.last, prometheus.GaugeValue, float64(f.LastUpsertAt.UnixNano())/1e9, f.IndexID, f.ProjectID)
		}
	}
}
