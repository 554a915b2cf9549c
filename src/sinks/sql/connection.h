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
};

struct ConnectOptions {
  Duration connect_timeout = std::chrono::seconds(10);
  // SQLite only: create the file when it does not exist (the sink does; the
  // history command does not).
  bool create = true;
};

// Connects. Errors name the backend and the redacted DSN.
Result<std::unique_ptr<Connection>> Connect(const Dsn& dsn, const ConnectOptions& options);

// Per-backend constructors (each in its own .cc).
Result<std::unique_ptr<Connection>> ConnectSqlite(const Dsn& dsn, const ConnectOptions& options);
Result<std::unique_ptr<Connection>> ConnectPostgres(const Dsn& dsn, const ConnectOptions& options);
Result<std::unique_ptr<Connection>> ConnectMariaDb(const Dsn& dsn, const ConnectOptions& options);

}  // namespace forcepipe::sql
