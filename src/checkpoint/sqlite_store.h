#pragma once

// SqliteCheckpointStore: checkpoints in an SQLite database (WAL mode,
// synchronous=FULL), one transaction per commit.
//
// Schema (created when missing):
//   forcepipe_checkpoints(key TEXT PRIMARY KEY, value TEXT, updated_at INTEGER
//                         -- unix nanoseconds of the commit, epoch INTEGER --
//                         the epoch of the commit that wrote the row)
//   forcepipe_checkpoint_fence(id INTEGER PRIMARY KEY CHECK(id = 1),
//                              max_epoch INTEGER) -- the highest accepted epoch
// Keys and values are stored byte for byte (binary values round-trip).
//
// Each Commit runs BEGIN IMMEDIATE, checks fencing and the `expect`
// preconditions, applies `erase` and `set`, raises max_epoch and commits, so
// the CAS and fencing hold even between processes sharing the database (the
// same rules as checkpoint/commit_logic.h). Load and LoadAll read the database,
// so they see other processes' commits.
//
// Open fails with kCorruption naming the file when it is not an SQLite
// database, is an existing 0-byte file, fails `PRAGMA quick_check`, or was
// initialised (PRAGMA application_id, or one of the two tables present) but
// lacks a table; and with kFailedPrecondition when the checkpoint table exists
// with a different shape. Only a path that does not exist yet is a fresh
// store. Load/LoadAll return kCorruption naming the key for a value that is
// not TEXT (a BLOB never reads as "").
//
// Thread safety: safe for concurrent use (one connection behind a mutex).

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/checkpoint_store.h"
#include "core/clock.h"
#include "core/entry.h"
#include "core/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace forcepipe {

class SqliteCheckpointStore : public CheckpointStore {
 public:
  // Creates missing parent directories and the database. `clock` (not owned,
  // must outlive the store) stamps updated_at.
  static Result<std::unique_ptr<SqliteCheckpointStore>> Open(const std::string& path,
                                                             const Clock* clock = Clock::Real());

  ~SqliteCheckpointStore() override;
  SqliteCheckpointStore(const SqliteCheckpointStore&) = delete;
  SqliteCheckpointStore& operator=(const SqliteCheckpointStore&) = delete;

  std::string_view kind() const override { return "sqlite"; }
  Result<std::optional<std::string>> Load(std::string_view key) override;
  Result<CheckpointMap> LoadAll() override;
  using CheckpointStore::Commit;
  Status Commit(const CommitRequest& request) override;

  const std::string& path() const { return path_; }

 private:
  SqliteCheckpointStore(std::string path, sqlite3* db, const Clock* clock);
  Status Prepare();
  Status CommitLocked(const CommitRequest& request);
  Status Error(const std::string& what) const;  // names the file and sqlite's message

  const std::string path_;
  sqlite3* const db_;
  const Clock* const clock_;

  std::mutex mu_;
  sqlite3_stmt* begin_ = nullptr;
  sqlite3_stmt* commit_ = nullptr;
  sqlite3_stmt* rollback_ = nullptr;
  sqlite3_stmt* get_ = nullptr;
  sqlite3_stmt* get_all_ = nullptr;
  sqlite3_stmt* put_ = nullptr;
  sqlite3_stmt* del_ = nullptr;
  sqlite3_stmt* get_epoch_ = nullptr;
  sqlite3_stmt* set_epoch_ = nullptr;
};

}  // namespace forcepipe
