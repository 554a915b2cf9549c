#pragma once

// Dialect: everything that differs between SQLite, PostgreSQL and MariaDB in
// the event store's SQL, as text and capabilities. The writer, pruner and
// reader ask the Dialect of their connection and never switch on Backend
// themselves (schema.cc holds the DDL, per backend).
//
// Thread safety: Dialect objects are immutable statics; share them freely.

#include <cstdint>
#include <string>
#include <string_view>

#include "sinks/sql/dsn.h"

namespace forcepipe::sql {

class Dialect {
 public:
  // The dialect of `backend` (a static, never null).
  static const Dialect& For(Backend backend);

  Backend backend() const { return backend_; }

  // Starts a write transaction. SQLite: BEGIN IMMEDIATE, taking the write lock
  // now so a transaction never fails half-way on a lock upgrade.
  std::string_view begin_write() const { return begin_write_; }

  // Appended to an INSERT so an existing key is left as is (idempotent
  // re-delivery).
  std::string_view insert_ignore() const { return insert_ignore_; }

  // Appended to `INSERT INTO checkpoints ("key", value, updated_at, epoch)
  // VALUES ...` so an existing key takes the new value, updated_at and epoch.
  std::string_view upsert_checkpoint() const { return upsert_checkpoint_; }

  // Appended to a SELECT that locks the rows it reads until commit ("" where
  // the write transaction already holds the database lock: SQLite).
  std::string_view lock_rows() const { return lock_rows_; }

  // True: statements are bounded by the bytes of their values (MariaDB, text
  // protocol), not a parameter count, so any count per statement is fine.
  bool statements_bounded_by_bytes() const { return statements_bounded_by_bytes_; }

  // True: the database does not check JSON itself (SQLite, schema v2 has no
  // CHECK), so the writer validates payload and changed_fields.
  bool validates_json_in_client() const { return validates_json_in_client_; }

  // True: PRAGMA quick_check is available and run before the first write.
  bool has_quick_check() const { return has_quick_check_; }

  // Closes a correlated NOT EXISTS subquery. PostgreSQL: " OFFSET 0)" keeps it
  // a per-row index probe instead of a hash anti-join over the whole table.
  std::string_view close_not_exists() const { return close_not_exists_; }

  // A DELETE of at most `limit` rows of `table` matching `cond`, oldest
  // (ts_ms) first, so every planner walks the (…, ts_ms) index in order and
  // stops after `limit` rows.
  std::string BoundedDelete(std::string_view table, std::string_view cond, int64_t limit) const;

 private:
  Backend backend_;
  std::string_view begin_write_;
  std::string_view insert_ignore_;
  std::string_view upsert_checkpoint_;
  std::string_view lock_rows_;
  bool statements_bounded_by_bytes_;
  bool validates_json_in_client_;
  bool has_quick_check_;
  std::string_view close_not_exists_;

  friend struct DialectTable;
  constexpr Dialect(Backend b, std::string_view begin_write, std::string_view insert_ignore,
                    std::string_view upsert_checkpoint, std::string_view lock_rows, bool by_bytes,
                    bool validate_json, bool quick_check, std::string_view close_not_exists)
      : backend_(b),
        begin_write_(begin_write),
        insert_ignore_(insert_ignore),
        upsert_checkpoint_(upsert_checkpoint),
        lock_rows_(lock_rows),
        statements_bounded_by_bytes_(by_bytes),
        validates_json_in_client_(validate_json),
        has_quick_check_(quick_check),
        close_not_exists_(close_not_exists) {}
};

}  // namespace forcepipe::sql
