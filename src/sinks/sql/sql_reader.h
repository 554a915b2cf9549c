#pragma once

// SqlReader: the read side (per-record history) over its own connection,
// which never creates a database or schema.
//
// Thread safety: methods are safe to call concurrently; they serialise on mu_,
// which guards only the reader's connection (never the writer's or pruner's).

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/status.h"
#include "sinks/sql/connection.h"
#include "sinks/sql/store_types.h"

namespace forcepipe::sql {

class SqlReader {
 public:
  // `options` is not owned and must outlive the reader.
  explicit SqlReader(const StoreOptions* options);

  // Connects without creating anything: kNotFound when there is no schema,
  // kFailedPrecondition when it is from a newer forcepipe.
  Status OpenExisting();

  // Events that touched `record_id` (any object type), newest first. `type`
  // (optional) matches the event_type or the change_type. limit <= 0: 100.
  Result<std::vector<HistoryRow>> QueryHistory(const std::string& record_id, int limit,
                                               const std::string& type);

 private:
  const StoreOptions* options_;
  std::mutex mu_;                     // guards conn_
  std::unique_ptr<Connection> conn_;  // GUARDED_BY(mu_)
};

}  // namespace forcepipe::sql
