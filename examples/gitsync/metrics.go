package main

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gitopskit/gitopskit/health"
	"github.com/gitopskit/gitopskit/reconcile"
)

// metrics are the agent's Prometheus metrics, in a registry of its own.
type metrics struct {
	reg         *prometheus.Registry
	passes      *prometheus.CounterVec
	stage       *prometheus.HistogramVec
	objects     *prometheus.CounterVec
	drift       prometheus.Gauge
	lastSuccess prometheus.Gauge
	health      *prometheus.GaugeVec
	revision    *prometheus.GaugeVec
}

var healthCodes = []health.Code{health.Healthy, health.Suspended, health.Progressing, health.Unknown, health.Missing, health.Degraded}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		passes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gitsync_reconcile_total", Help: "Reconcile passes by result (success, failure) and failed stage.",
		}, []string{"result", "stage"}),
		stage: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gitsync_stage_duration_seconds", Help: "Duration of each stage of a pass.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
		}, []string{"stage"}),
		objects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gitsync_objects_total", Help: "Objects by outcome of the apply and prune stages.",
		}, []string{"outcome"}),
		drift: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gitsync_drift_objects", Help: "Objects out of sync at the start of the last pass.",
		}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gitsync_last_success_timestamp_seconds", Help: "Unix time of the last successful pass.",
		}),
		health: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gitsync_health", Help: "1 for the health code of the set after the last pass, 0 for the others.",
		}, []string{"code"}),
		revision: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gitsync_revision_info", Help: "The revision of the last pass (value 1).",
		}, []string{"revision"}),
	}
	m.reg.MustRegister(m.passes, m.stage, m.objects, m.drift, m.lastSuccess, m.health, m.revision,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) observe(res *reconcile.Result, err error) {
	if err != nil {
		m.passes.WithLabelValues("failure", string(reconcile.FailedStage(err))).Inc()
	} else {
		m.passes.WithLabelValues("success", "").Inc()
		m.lastSuccess.Set(float64(time.Now().Unix()))
	}
	if res == nil {
		return
	}
	for s, d := range res.Durations {
		m.stage.WithLabelValues(string(s)).Observe(d.Seconds())
	}
	for _, o := range res.Objects {
		m.objects.WithLabelValues(string(o.Action)).Inc()
	}
	m.drift.Set(float64(len(res.Drift)))
	if res.Revision != "" {
		m.revision.Reset()
		m.revision.WithLabelValues(res.Revision).Set(1)
	}
	if res.Health.Code != "" {
		for _, c := range healthCodes {
			v := 0.0
			if c == res.Health.Code {
				v = 1
			}
			m.health.WithLabelValues(string(c)).Set(v)
		}
	}
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}
