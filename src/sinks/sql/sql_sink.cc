#include "sinks/sql/sql_sink.h"

#include <spdlog/spdlog.h>

#include <cctype>
#include <sstream>
#include <string>

#include "sinks/sql/history.h"

namespace forcepipe::sql {

SqlSink::SqlSink(SqlSinkOptions options, const Clock* clock)
    : options_(std::move(options)), store_(options_.store, clock) {}

SqlSink::~SqlSink() { Stop(); }

Status SqlSink::Start() {
  FP_RETURN_IF_ERROR(store_.Open());
  if (!options_.store.retention.empty() || !options_.store.object_retention.empty()) {
    pruner_ = std::thread([this] { PruneLoop(); });
  }
  return Status::Ok();
}

PushOutcome SqlSink::Push(const Batch& batch) {
  auto r = store_.WriteBatch(batch);
  if (!r.ok()) {
    // Nothing was committed. A damaged database or a schema that is not ours
    // (a dropped table) cannot heal by retrying: fail loudly. Connection
    // loss, lock timeouts and anything unexpected are retried by the engine
    // with its backoff.
    const StatusCode code = r.status().code();
    if (code == StatusCode::kCorruption || code == StatusCode::kFailedPrecondition) {
      return PushOutcome::Fatal(r.status().ToString());
    }
    return PushOutcome::Retryable(r.status().ToString());
  }
  if (r->empty()) return PushOutcome::Ok();
  return PushOutcome::Permanent(std::move(*r));
}

void SqlSink::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (pruner_.joinable()) pruner_.join();
}

void SqlSink::PruneLoop() {
  // Runs a pass at start (a restart after a long stop prunes at once), then
  // every prune_interval. A failed pass is logged and retried next interval.
  while (!stop_) {
    auto pruned = store_.PruneOnce(&stop_);
    if (!pruned.ok()) {
      spdlog::warn("sql sink: retention pruning failed: {}", pruned.status().ToString());
    } else if (*pruned > 0) {
      spdlog::info("sql sink: pruned {} events", *pruned);
    }
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait_for(l, options_.prune_interval, [this] { return stop_.load(); });
  }
}

Result<Duration> ParseRetentionAge(const std::string& text) {
  if (text.empty()) return Status::InvalidArgument("empty duration");
  Duration total{0};
  size_t i = 0;
  bool any = false;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    if (start == i) break;
    int64_t n = std::stoll(text.substr(start, std::min<size_t>(i - start, 15)));
    size_t ustart = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string unit = text.substr(ustart, i - ustart);
    if (unit == "d") {
      total += std::chrono::hours(24 * n);
    } else if (unit == "h") {
      total += std::chrono::hours(n);
    } else if (unit == "m") {
      total += std::chrono::minutes(n);
    } else if (unit == "s") {
      total += std::chrono::seconds(n);
    } else if (unit == "ms") {
      total += std::chrono::milliseconds(n);
    } else {
      return Status::InvalidArgument("expected a duration like 30d, 12h or 1d12h, got \"" + text +
                                     "\"");
    }
    any = true;
  }
  if (!any || i != text.size() || total <= Duration::zero()) {
    return Status::InvalidArgument("expected a positive duration like 30d, 12h or 1d12h, got \"" +
                                   text + "\"");
  }
  return total;
}

std::vector<MetricSample> SqlSink::Metrics() const {
  const StoreCounters& c = counters();
  auto m = [](const char* n, const char* h, const std::atomic<uint64_t>& v) {
    return MetricSample{n, h, true, {}, static_cast<double>(v.load())};
  };
  return {
      m("sql_events_inserted_total", "Event rows inserted.", c.events_inserted),
      m("sql_objects_inserted_total", "Event-object rows inserted.", c.objects_inserted),
      m("sql_events_duplicate_total", "Events already stored (re-delivery), not inserted again.",
        c.events_duplicate),
      m("sql_rows_rejected_total", "Entries the database refused (constraint or data errors).",
        c.rejected),
      m("sql_events_pruned_total", "Event rows deleted by retention.", c.events_pruned),
      m("sql_objects_pruned_total", "Event-object rows deleted by retention.", c.objects_pruned),
      m("sql_prune_runs_total", "Retention passes.", c.prune_runs),
      m("sql_batches_copied_total", "Batches written with COPY (PostgreSQL).", c.batches_copied),
      m("sql_copy_fallbacks_total",
        "Batches whose COPY failed (re-delivered or refused row) and were redone with INSERTs.",
        c.copy_fallbacks),
  };
}

Result<std::string> SqlSink::RecordEventsJson(const std::string& record_id, int limit,
                                              const std::string& type) const {
  auto rows = const_cast<SqlStore&>(store_).QueryHistory(record_id, limit, type);
  if (!rows.ok()) return rows.status();
  std::ostringstream out;
  PrintHistory(*rows, true, out);
  return out.str();
}

}  // namespace forcepipe::sql
