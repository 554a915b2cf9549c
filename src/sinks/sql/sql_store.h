#pragma once

// SqlStore: the event store — the writer (schema migration, batch writes:
// events + event_objects + checkpoints in one transaction, the checkpoint
// store contract; here), plus the pruner (sql_pruner.h, retention) and the
// reader (sql_reader.h, per-record history) it delegates to. Dialect differences are confined to
// the SQL text chosen by the Dialect (dialect.h; schema.cc holds the DDL).
//
// Thread safety: all methods are safe to call concurrently. Writes and
// checkpoint operations share the writer connection under mu_; the pruner and
// the reader each own their connection and lock, so neither blocks behind the
// other's work in the client (the database arbitrates).

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/checkpoint_store.h"
#include "core/clock.h"
#include "core/entry.h"
#include "core/sink.h"
#include "core/status.h"
#include "sinks/sql/connection.h"
#include "sinks/sql/dsn.h"
#include "sinks/sql/sql_pruner.h"
#include "sinks/sql/sql_reader.h"
#include "sinks/sql/store_types.h"

namespace forcepipe::sql {

// The identity an entry is stored under: metadata event_id, else a
// deterministic id derived from the source label and the checkpoint position
// ("fp-" + 32 hex digits), so a re-delivered entry maps to the same row.
std::string EventUuid(const Entry& entry);

class SqlStore final : public CheckpointStore {
 public:
  // `clock` is not owned and must outlive the store.
  SqlStore(StoreOptions options, const Clock* clock);
  ~SqlStore() override;

  // Connects, creates or migrates the schema (also done by the first Load,
  // LoadAll, Commit or WriteBatch when Open was not called). Errors: kUnauthenticated,
  // kNotFound, kUnavailable (cannot connect), kFailedPrecondition (schema from
  // a newer forcepipe), kCorruption (SQLite: an existing 0-byte file or a
  // failed quick_check; any backend: a table of a recorded schema is
  // missing), all with the backend's message and no password.
  Status Open();

  // Connects without creating anything (history): fails when the schema is
  // missing or of another version.
  Status OpenExisting();

  // Writes `batch` in one transaction: events and objects idempotently, then
  // batch.checkpoints. Returns the indexes of entries the database refused
  // (each with its message); everything else is committed. kUnavailable etc.:
  // nothing was committed.
  Result<std::vector<Rejection>> WriteBatch(const Batch& batch);

  // One pruning pass: deletes aged-out rows in transactions of at most
  // prune_batch rows until none are left (or `stop` becomes true). Returns the
  // number of events rows deleted.
  Result<uint64_t> PruneOnce(const std::atomic<bool>* stop = nullptr);

  // Events that touched `record_id` (any object type), newest first. `type`
  // (optional) matches the event_type or the change_type. limit <= 0: 100.
  Result<std::vector<HistoryRow>> QueryHistory(const std::string& record_id, int limit,
                                               const std::string& type);

  // CheckpointStore.
  std::string_view kind() const override { return "sql"; }
  Result<std::optional<std::string>> Load(std::string_view key) override;
  Result<CheckpointMap> LoadAll() override;
  Status Commit(const CommitRequest& request) override;
  using CheckpointStore::Commit;

  const StoreCounters& counters() const { return counters_; }
  Backend backend() const { return options_.dsn.backend; }

 private:
  struct PreparedRow;

  Result<Connection*> Writer();  // REQUIRES: mu_ held
  // SQLite: PRAGMA quick_check; kCorruption naming the database otherwise.
  Status QuickCheck(Connection& c);
  // Every table of the schema exists (after Migrate); kCorruption naming the
  // database and the table otherwise (a dropped table is never recreated).
  Status VerifyTables(Connection& c);
  Status Begin(Connection* c);
  void Rollback(Connection* c);
  Status InsertRange(Connection* c, const std::vector<PreparedRow>& rows, size_t lo, size_t hi,
                     std::vector<Rejection>& rejected, uint64_t& inserted, uint64_t& objects);
  Status InsertRows(Connection* c, const std::vector<PreparedRow>& rows, size_t lo, size_t hi,
                    uint64_t& inserted, uint64_t& objects);
  Status CopyRows(Connection* c, const std::vector<PreparedRow>& rows, uint64_t& inserted,
                  uint64_t& objects);
  Status UpsertCheckpoints(Connection* c, const CheckpointMap& values, uint64_t epoch,
                           int64_t now_ms);

  const StoreOptions options_;
  const Clock* clock_;
  StoreCounters counters_;

  std::mutex mu_;  // guards writer_
  std::unique_ptr<Connection> writer_;
  bool migrated_ = false;
  // Batches left to write with INSERTs after a COPY failed (guarded by mu_).
  int copy_cooldown_ = 0;
  SqlPruner pruner_;  // its own connection and lock
  SqlReader reader_;  // its own connection and lock
};

}  // namespace forcepipe::sql
