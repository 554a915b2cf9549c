#pragma once

// Connection: the one seam between the event store's SQL and a database client
// library. Three implementations: SQLite (sqlite_connection.cc), PostgreSQL
// (postgres_connection.cc, libpq) and MariaDB (mariadb_connection.cc,
// libmariadb). Statements use `?` placeholders in every dialect; the PostgreSQL
// implementation rewrites them to $1..$n, the MariaDB one substitutes escaped
// literals (text protocol). SQL text must therefore not contain a literal '?'.
//
// Errors are classified by StatusCode so the store can act on them:
//   kInvalidArgument  the data was refused (constraint, too long, invalid JSON):
//                     retrying the same rows will fail again
//   kUnavailable      connection lost, server shutting down, lock timeout,
//                     deadlock, busy: retry later (after reconnecting)
//   kUnauthenticated  wrong credentials (startup)
//   kNotFound         the database (or SQLite file's directory) does not exist
//   kInternal         anything else (e.g. an SQL error: a bug)
// Messages carry the backend's own text with the password redacted.
//
// Thread safety: a Connection is used by one thread at a time.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "sinks/sql/dsn.h"

namespace forcepipe::sql {

// A bound parameter: NULL, text (viewed, not copied: must outlive the call) or
// a 64-bit integer.
using Param = std::variant<std::monostate, std::string_view, int64_t>;

using Row = std::vector<std::optional<std::string>>;  // nullopt = SQL NULL

class Connection {
 public:
  virtual ~Connection() = default;
  virtual Backend backend() const = 0;

  // Runs one statement. `affected` (optional) receives the number of rows the
  // statement inserted/updated/deleted.
  virtual Status Execute(std::string_view sql, std::span<const Param> params = {},
                         int64_t* affected = nullptr) = 0;

  // Runs one statement that returns rows; values as text.
  virtual Result<std::vector<Row>> Query(std::string_view sql,
                                         std::span<const Param> params = {}) = 0;

  // True once the connection is known to be unusable (lost, reset); the owner
  // then opens a new one.
  virtual bool broken() const = 0;

  // Bulk load: PostgreSQL `COPY <target> FROM STDIN` (text format) of
  // `values`, `columns` per row in row order, in one round trip. `target` is
  // "table (col, ...)". Unlike the INSERTs it has no ON CONFLICT: a row whose
  // key exists fails the whole statement (kInvalidArgument, like any refused
  // row), and the transaction must be rolled back. kUnimplemented where
  // can_copy() is false.
  virtual bool can_copy() const { return false; }
  virtual Status CopyIn(std::string_view target, size_t columns, std::span<const Param> values,
                        int64_t* affected) {
    return Status::Unimplemented("COPY is PostgreSQL's");
  }

  // Runs the one-row statement `sql` (`columns` placeholders) once for each
  // row of `values` (row order) in one round trip: MariaDB's bulk execution
  // of a server-side prepared statement with array binding, so the server
  // parses no SQL text per value. Same errors as Execute; a refused row fails
  // the call and the transaction must be rolled back (or back to a
  // savepoint). kUnimplemented where can_bulk() is false (e.g. a MySQL server).
  virtual bool can_bulk() const { return false; }
  virtual Status ExecuteBulk(std::string_view sql, size_t columns, std::span<const Param> values,
                             int64_t* affected) {
    return Status::Unimplemented("bulk execution is MariaDB's");
  }

  // The most `?` parameters one statement may carry (SQLite:
  // SQLITE_LIMIT_VARIABLE_NUMBER; PostgreSQL: 65535, the protocol's 16-bit
  // count; MariaDB: no limit, statements are bounded by bytes instead).
  virtual size_t max_params() const = 0;
};

struct ConnectOptions {
  Duration connect_timeout = std::chrono::seconds(10);
  // SQLite only: create the file when it does not exist (the sink does; the
  // history command does not).
  bool create = true;
  // Lowers the per-statement parameter limit (max_params()) below the
  // backend's own; 0 = the backend's. For tests of statement splitting.
  size_t max_params = 0;
};

// Connects. Errors name the backend and the redacted DSN.
Result<std::unique_ptr<Connection>> Connect(const Dsn& dsn, const ConnectOptions& options);

// Per-backend constructors (each in its own .cc).
Result<std::unique_ptr<Connection>> ConnectSqlite(const Dsn& dsn, const ConnectOptions& options);
Result<std::unique_ptr<Connection>> ConnectPostgres(const Dsn& dsn, const ConnectOptions& options);
Result<std::unique_ptr<Connection>> ConnectMariaDb(const Dsn& dsn, const ConnectOptions& options);

}  // namespace forcepipe::sql
