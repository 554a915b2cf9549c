#include "server/metrics.h"

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <algorithm>

namespace forcepipe::server {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily Family(std::string name, std::string help, MetricType type) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

ClientMetric Value(std::vector<ClientMetric::Label> labels, double v, MetricType type) {
  ClientMetric m;
  m.label = std::move(labels);
  if (type == MetricType::Counter) {
    m.counter.value = v;
  } else {
    m.gauge.value = v;
  }
  return m;
}

ClientMetric HistogramMetric(std::vector<ClientMetric::Label> labels,
                             const Histogram::Snapshot& s) {
  ClientMetric m;
  m.label = std::move(labels);
  m.histogram.sample_count = s.count;
  m.histogram.sample_sum = s.sum;
  for (size_t i = 0; i < s.bounds.size(); ++i) {
    ClientMetric::Bucket b;
    b.upper_bound = s.bounds[i];
    b.cumulative_count = s.cumulative[i];
    m.histogram.bucket.push_back(b);
  }
  ClientMetric::Bucket inf;
  inf.upper_bound = std::numeric_limits<double>::infinity();
  inf.cumulative_count = s.count;
  m.histogram.bucket.push_back(inf);
  return m;
}

double Seconds(int64_t unix_ns) { return static_cast<double>(unix_ns) / 1e9; }

}  // namespace

std::string RenderMetrics(const Engine& engine, const std::string& version, bool ready,
                          const Clock& clock) {
  std::vector<MetricFamily> out;
  const double now = Seconds(clock.NowUnixNanos());
  const std::string sink(engine.sink()->kind());

  auto build = Family("forcepipe_build_info", "Build information; always 1.", MetricType::Gauge);
  build.metric.push_back(Value({{"version", version}}, 1, MetricType::Gauge));
  out.push_back(std::move(build));
  auto rdy = Family("forcepipe_ready", "1 when /readyz answers 200.", MetricType::Gauge);
  rdy.metric.push_back(Value({}, ready ? 1 : 0, MetricType::Gauge));
  out.push_back(std::move(rdy));

  // Sources.
  auto events = Family("forcepipe_source_events_total", "Events a source handed to its lane.",
                       MetricType::Counter);
  auto up = Family("forcepipe_source_up", "1 while the source is running.", MetricType::Gauge);
  auto last = Family("forcepipe_source_last_event_timestamp_seconds",
                     "Event time of the newest event emitted.", MetricType::Gauge);
  auto lag = Family("forcepipe_source_ingest_lag_seconds",
                    "Now minus the event time of the newest event emitted.", MetricType::Gauge);
  auto healthy =
      Family("forcepipe_source_healthy", "0 while a source reports a problem (auth, connectivity).",
             MetricType::Gauge);
  const auto& sources = engine.source_status();
  for (size_t i = 0; i < sources.size(); ++i) {
    const auto& s = *sources[i];
    std::vector<ClientMetric::Label> l = {
        {"source", s.name}, {"kind", s.kind}, {"lane", std::string(LaneKindName(s.lane))}};
    events.metric.push_back(Value(l, static_cast<double>(s.emitted.load()), MetricType::Counter));
    up.metric.push_back(Value(l, s.running.load() ? 1 : 0, MetricType::Gauge));
    int64_t ts = s.last_event_unix_ns.load();
    last.metric.push_back(Value(l, ts ? Seconds(ts) : 0, MetricType::Gauge));
    lag.metric.push_back(Value(l, ts ? std::max(0.0, now - Seconds(ts)) : 0, MetricType::Gauge));
    auto [err, health] = engine.SourceProblems(i);
    healthy.metric.push_back(Value(l, err.empty() && health.empty() ? 1 : 0, MetricType::Gauge));
  }
  for (auto* f : {&events, &up, &last, &lag, &healthy}) out.push_back(std::move(*f));

  // Lanes and the sink.
  struct LaneFamily {
    const char* name;
    const char* help;
    MetricType type;
    std::function<double(const Lane&)> get;
  };
  const std::vector<LaneFamily> lane_families = {
      {"forcepipe_lane_entries_in_total", "Entries accepted into the lane.", MetricType::Counter,
       [](const Lane& l) { return static_cast<double>(l.stats().entries_in.load()); }},
      {"forcepipe_sink_entries_delivered_total", "Entries the sink accepted.", MetricType::Counter,
       [](const Lane& l) { return static_cast<double>(l.stats().entries_delivered.load()); }},
      {"forcepipe_sink_bytes_delivered_total", "Bytes of entries the sink accepted.",
       MetricType::Counter,
       [](const Lane& l) { return static_cast<double>(l.stats().bytes_delivered.load()); }},
      {"forcepipe_sink_entries_dropped_total",
       "Entries the sink rejected permanently (dead-lettered).", MetricType::Counter,
       [](const Lane& l) { return static_cast<double>(l.stats().entries_dropped.load()); }},
      {"forcepipe_dead_letter_write_failures_total",
       "Failed dead-letter writes (the rejected entry's batch is held and retried).",
       MetricType::Counter,
       [](const Lane& l) { return static_cast<double>(l.stats().dead_letter_failures.load()); }},
      {"forcepipe_sink_retries_total", "Pushes that failed and were retried.", MetricType::Counter,
       [](const Lane& l) { return static_cast<double>(l.stats().retries.load()); }},
      {"forcepipe_sink_batches_total", "Batches delivered.", MetricType::Counter,
       [](const Lane& l) { return static_cast<double>(l.stats().batches_pushed.load()); }},
      {"forcepipe_sink_batches_abandoned_total", "Batches abandoned at a shutdown deadline.",
       MetricType::Counter,
       [](const Lane& l) { return static_cast<double>(l.stats().batches_abandoned.load()); }},
      {"forcepipe_sink_failing_since_timestamp_seconds",
       "When the current run of failed pushes began; 0 when healthy.", MetricType::Gauge,
       [](const Lane& l) { return Seconds(l.stats().failing_since_unix_ns.load()); }},
      {"forcepipe_lane_queued_entries", "Entries waiting in the lane's queue.", MetricType::Gauge,
       [](const Lane& l) { return static_cast<double>(l.queued_entries()); }},
      {"forcepipe_lane_held_entries", "Entries the lane holds (queued, batching, in flight).",
       MetricType::Gauge, [](const Lane& l) { return static_cast<double>(l.held_entries()); }},
      {"forcepipe_lane_held_bytes", "Bytes the lane holds (queued, batching, in flight).",
       MetricType::Gauge, [](const Lane& l) { return static_cast<double>(l.held_bytes()); }},
      {"forcepipe_lane_capacity_entries", "The lane's entry budget.", MetricType::Gauge,
       [](const Lane& l) { return static_cast<double>(l.options().queue_max_entries); }},
      {"forcepipe_lane_capacity_bytes", "The lane's byte budget.", MetricType::Gauge,
       [](const Lane& l) { return static_cast<double>(l.options().queue_max_bytes); }},
      {"forcepipe_checkpoint_commits_total", "Checkpoint commits.", MetricType::Counter,
       [](const Lane& l) { return static_cast<double>(l.stats().commits.load()); }},
      {"forcepipe_checkpoint_commit_failures_total",
       "Checkpoint commits that failed (retried with the next).", MetricType::Counter,
       [](const Lane& l) { return static_cast<double>(l.stats().commit_failures.load()); }},
      {"forcepipe_checkpoint_last_commit_timestamp_seconds",
       "When a checkpoint was last committed; 0 if never.", MetricType::Gauge,
       [](const Lane& l) { return Seconds(l.stats().last_commit_unix_ns.load()); }},
  };
  for (const auto& lf : lane_families) {
    auto f = Family(lf.name, lf.help, lf.type);
    for (LaneKind k : {LaneKind::kStreaming, LaneKind::kBulk}) {
      const Lane* lane = engine.lane(k);
      f.metric.push_back(
          Value({{"lane", std::string(LaneKindName(k))}, {"sink", sink}}, lf.get(*lane), lf.type));
    }
    out.push_back(std::move(f));
  }
  auto age = Family("forcepipe_checkpoint_age_seconds",
                    "Seconds since the lane last committed a checkpoint.", MetricType::Gauge);
  auto push = Family("forcepipe_sink_push_duration_seconds", "Duration of one push to the sink.",
                     MetricType::Histogram);
  auto size =
      Family("forcepipe_sink_batch_entries", "Entries per delivered batch.", MetricType::Histogram);
  for (LaneKind k : {LaneKind::kStreaming, LaneKind::kBulk}) {
    const Lane* lane = engine.lane(k);
    std::vector<ClientMetric::Label> l = {{"lane", std::string(LaneKindName(k))}, {"sink", sink}};
    int64_t lc = lane->stats().last_commit_unix_ns.load();
    age.metric.push_back(Value(l, lc ? std::max(0.0, now - Seconds(lc)) : 0, MetricType::Gauge));
    push.metric.push_back(HistogramMetric(l, lane->stats().push_seconds.Take()));
    size.metric.push_back(HistogramMetric(l, lane->stats().batch_entries.Take()));
  }
  out.push_back(std::move(age));
  out.push_back(std::move(push));
  out.push_back(std::move(size));

  // Component-specific families, grouped by name in first-seen order.
  std::vector<MetricFamily> extra;
  for (auto& m : engine.ComponentMetrics()) {
    std::string name = "forcepipe_" + m.name;
    auto it = std::find_if(extra.begin(), extra.end(),
                           [&](const MetricFamily& f) { return f.name == name; });
    MetricType type = m.counter ? MetricType::Counter : MetricType::Gauge;
    if (it == extra.end()) {
      extra.push_back(Family(name, m.help, type));
      it = extra.end() - 1;
    }
    std::vector<ClientMetric::Label> labels;
    for (auto& l : m.labels) labels.push_back({l.name, l.value});
    it->metric.push_back(Value(std::move(labels), m.value, type));
  }
  for (auto& f : extra) out.push_back(std::move(f));

  auto dl = Family("forcepipe_dead_letters_total", "Entries written to the dead-letter file.",
                   MetricType::Counter);
  dl.metric.push_back(Value({}, static_cast<double>(engine.dead_letters()), MetricType::Counter));
  out.push_back(std::move(dl));

  return prometheus::TextSerializer().Serialize(out);
}

}  // namespace forcepipe::server
