#pragma once

// SqlPruner: retention. Deletes aged-out event_objects and events rows in
// bounded DELETEs (Dialect::BoundedDelete) over its own connection.
//
// Thread safety: PruneOnce is safe to call concurrently; calls serialise on
// mu_, which guards only the pruner's connection. It never takes the writer's
// or the reader's lock: the database arbitrates between them.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "core/clock.h"
#include "core/status.h"
#include "sinks/sql/connection.h"
#include "sinks/sql/store_types.h"

namespace forcepipe::sql {

class SqlPruner {
 public:
  // `options`, `clock` and `counters` are not owned and must outlive the pruner.
  SqlPruner(const StoreOptions* options, const Clock* clock, StoreCounters* counters);

  // One pruning pass: deletes aged-out rows in transactions of at most
  // prune_batch rows until none are left (or `stop` becomes true). Returns the
  // number of events rows deleted. Connects on first use and after the
  // connection broke; never creates the schema.
  Result<uint64_t> PruneOnce(const std::atomic<bool>* stop);

 private:
  const StoreOptions* options_;
  const Clock* clock_;
  StoreCounters* counters_;
  std::mutex mu_;                     // guards conn_
  std::unique_ptr<Connection> conn_;  // GUARDED_BY(mu_)
};

}  // namespace forcepipe::sql
