#pragma once

// The `sql` sink: an event store in SQLite, PostgreSQL or MariaDB (see
// README.md for the schema). It is its own CheckpointStore, so each batch's
// events and checkpoints commit in one transaction (effectively-once).
//
// Lifecycle: Start() connects and migrates the schema and starts the pruning
// thread (when retention is configured); Push() writes a batch; Stop() stops
// the pruning thread. The store stays usable as a CheckpointStore until the
// sink is destroyed.
// Thread safety: as Sink; max_in_flight() is 1 (one writer).

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config/node.h"
#include "config/options.h"
#include "config/registry.h"
#include "core/clock.h"
#include "core/sink.h"
#include "sinks/sql/sql_store.h"

namespace forcepipe {

namespace sql {

struct SqlSinkOptions {
  StoreOptions store;
  Duration prune_interval = std::chrono::minutes(5);
};

// "30d", "12h", "90m", "1d12h", "45s", "500ms" -> Duration. Days are accepted
// here (unlike config durations) because retention is usually in days.
Result<Duration> ParseRetentionAge(const std::string& text);

// The sql kind's options (no `type`, `batch`, `max_in_flight`, `retry`).
const config::OptionTable& SqlSinkOptionTable();

// Validated section -> options. Errors name the key path, never the password.
Result<SqlSinkOptions> ParseSqlSinkOptions(const config::Node& section);

class SqlSink final : public Sink, public RecordHistory {
 public:
  // `clock` is not owned and must outlive the sink.
  SqlSink(SqlSinkOptions options, const Clock* clock);
  ~SqlSink() override;

  std::string_view kind() const override { return "sql"; }
  Status Start() override;
  PushOutcome Push(const Batch& batch) override;
  void Stop() override;
  CheckpointStore* checkpoint_store() override { return &store_; }

  Result<std::vector<HistoryRow>> QueryHistory(const std::string& record_id, int limit,
                                               const std::string& type) {
    return store_.QueryHistory(record_id, limit, type);
  }
  // RecordHistory: the JSON `forcepipe history --json` prints.
  Result<std::string> RecordEventsJson(const std::string& record_id, int limit,
                                       const std::string& type) const override;
  // History reads do not change the sink's state (the store serialises them).
  RecordHistory* record_history() const override { return const_cast<SqlSink*>(this); }
  SqlStore& store() { return store_; }
  const StoreCounters& counters() const { return store_.counters(); }
  std::vector<MetricSample> Metrics() const override;

 private:
  void PruneLoop();

  const SqlSinkOptions options_;
  SqlStore store_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> stop_{false};
  std::thread pruner_;
};

}  // namespace sql

// kind "sql".
SinkFactory SqlSinkFactory();

}  // namespace forcepipe
