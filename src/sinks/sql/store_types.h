#pragma once

// The event store's options, counters and history rows, shared by SqlStore
// and its writer, pruner and reader.

#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "core/clock.h"
#include "sinks/sql/connection.h"
#include "sinks/sql/dsn.h"

namespace forcepipe::sql {

// The schema version this build writes and understands. A database whose
// version is higher was migrated by a newer forcepipe: refuse to start.
inline constexpr int kSchemaVersion = 2;

struct StoreOptions {
  Dsn dsn;
  ConnectOptions connect;
  // Max age of events by event_type; key "*" applies to every type not listed.
  // An event type with no rule (and no "*") is kept forever.
  std::map<std::string, Duration> retention;
  // Max age of event_objects rows by object type (e.g. "Contact"), overriding
  // the event_type rule for links to that object type.
  std::map<std::string, Duration> object_retention;
  int prune_batch = 1000;  // rows per DELETE
  // Rows per multi-row INSERT statement, within the backend's parameter limit
  // (MariaDB: also at most 4 MiB of values per statement).
  int insert_chunk = 1000;
  // PostgreSQL: write a batch with COPY (fast path, falling back to the
  // idempotent INSERTs when COPY fails, e.g. on a re-delivered event).
  bool use_copy = true;
  // MariaDB: bulk execution of a prepared statement (array binding) instead
  // of multi-row SQL text.
  bool use_bulk = true;
};

// One row of a record's history, newest first.
struct HistoryRow {
  std::string event_uuid;
  std::string object_type;
  std::string source;
  std::string event_type;
  int64_t ts_ms = 0;
  std::string replay_position;
  std::optional<std::string> change_type;
  std::optional<std::string> commit_user;
  std::optional<std::string> transaction_key;
  std::optional<std::string> changed_fields;  // JSON array text
  std::string payload;                        // the Entry line (JSON)
};

struct StoreCounters {
  std::atomic<uint64_t> events_inserted{0};
  std::atomic<uint64_t> objects_inserted{0};
  std::atomic<uint64_t> events_duplicate{0};  // already present (re-delivery)
  std::atomic<uint64_t> rejected{0};
  std::atomic<uint64_t> events_pruned{0};
  std::atomic<uint64_t> objects_pruned{0};
  std::atomic<uint64_t> prune_runs{0};
  std::atomic<uint64_t> batches_copied{0};  // PostgreSQL: written by COPY
  std::atomic<uint64_t> copy_fallbacks{0};  // COPY failed, batch redone with INSERTs
};

}  // namespace forcepipe::sql
