// SQLite backend: one sqlite3 handle, WAL journal, prepared statements cached
// by SQL text (the store's multi-row INSERTs come in a handful of shapes), so
// a batch's statements cost no parse.

#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <unordered_map>

#include "sinks/sql/connection.h"

namespace forcepipe::sql {
namespace {

Status FromSqlite(sqlite3* db, int rc, std::string_view what) {
  int primary = rc & 0xff;
  std::string msg = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (primary) {
    case SQLITE_CONSTRAINT:
    case SQLITE_TOOBIG:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
      return Status::InvalidArgument(msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_NOMEM:
    case SQLITE_INTERRUPT:
      return Status::Unavailable(msg);
    case SQLITE_CANTOPEN:
      return Status::NotFound(msg);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status::Corruption(msg);
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH:
      return Status::PermissionDenied(msg);
    case SQLITE_ERROR:
      // A dropped table or column: the schema is not what this build wrote;
      // retrying cannot help.
      if (db && (std::string_view(sqlite3_errmsg(db)).starts_with("no such table") ||
                 std::string_view(sqlite3_errmsg(db)).starts_with("no such column"))) {
        return Status::FailedPrecondition(msg);
      }
      return Status::Internal(msg);
    default:
      return Status::Internal(msg);
  }
}

class SqliteConnection final : public Connection {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  ~SqliteConnection() override {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }

  Backend backend() const override { return Backend::kSqlite; }
  bool broken() const override { return false; }
  size_t max_params() const override {
    return static_cast<size_t>(sqlite3_limit(db_, SQLITE_LIMIT_VARIABLE_NUMBER, -1));
  }

  Status Execute(std::string_view sql, std::span<const Param> params, int64_t* affected) override {
    sqlite3_stmt* stmt = nullptr;
    FP_RETURN_IF_ERROR(Prepare(sql, params, &stmt));
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    }
    Status s = rc == SQLITE_DONE ? Status::Ok() : FromSqlite(db_, rc, "sqlite");
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    if (s.ok() && affected) *affected = sqlite3_changes64(db_);
    return s;
  }

  Result<std::vector<Row>> Query(std::string_view sql, std::span<const Param> params) override {
    sqlite3_stmt* stmt = nullptr;
    FP_RETURN_IF_ERROR(Prepare(sql, params, &stmt));
    std::vector<Row> rows;
    int rc;
    const int ncol = sqlite3_column_count(stmt);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      Row row(ncol);
      for (int i = 0; i < ncol; ++i) {
        if (sqlite3_column_type(stmt, i) == SQLITE_NULL) continue;
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
        row[i] = std::string(text, sqlite3_column_bytes(stmt, i));
      }
      rows.push_back(std::move(row));
    }
    Status s = rc == SQLITE_DONE ? Status::Ok() : FromSqlite(db_, rc, "sqlite");
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    if (!s.ok()) return s;
    return rows;
  }

 private:
  Status Prepare(std::string_view sql, std::span<const Param> params, sqlite3_stmt** out) {
    auto it = cache_.find(sql);
    sqlite3_stmt* stmt;
    if (it != cache_.end()) {
      stmt = it->second;
    } else {
      int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                  SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
      if (rc != SQLITE_OK) return FromSqlite(db_, rc, "sqlite prepare");
      if (cache_.size() > 256) {  // bounded: variable-sized statements are rare
        for (auto& [k, v] : cache_) sqlite3_finalize(v);
        cache_.clear();
      }
      cache_.emplace(std::string(sql), stmt);
    }
    for (size_t i = 0; i < params.size(); ++i) {
      int idx = static_cast<int>(i + 1);
      int rc = SQLITE_OK;
      if (const auto* sv = std::get_if<std::string_view>(&params[i])) {
        rc = sqlite3_bind_text64(stmt, idx, sv->data(), sv->size(), SQLITE_STATIC, SQLITE_UTF8);
      } else if (const auto* iv = std::get_if<int64_t>(&params[i])) {
        rc = sqlite3_bind_int64(stmt, idx, *iv);
      } else {
        rc = sqlite3_bind_null(stmt, idx);
      }
      if (rc != SQLITE_OK) {
        sqlite3_clear_bindings(stmt);
        return FromSqlite(db_, rc, "sqlite bind");
      }
    }
    *out = stmt;
    return Status::Ok();
  }

  sqlite3* db_;
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  std::unordered_map<std::string, sqlite3_stmt*, Hash, std::equal_to<>> cache_;
};

}  // namespace

Result<std::unique_ptr<Connection>> ConnectSqlite(const Dsn& dsn, const ConnectOptions& options) {
  {
    // SQLite takes an empty file for a new database (and the pragmas below
    // would make it one): an existing 0-byte file is damaged state — a
    // truncated or replaced events.db — never a fresh store.
    std::error_code ec;
    if (std::filesystem::is_regular_file(dsn.path, ec) &&
        std::filesystem::file_size(dsn.path, ec) == 0 && !ec) {
      return Status::Corruption("sqlite: " + dsn.path +
                                " is an empty (0-byte) file, not an event store; refusing to "
                                "start every stream over: restore it from a backup, or delete it "
                                "to start over");
    }
  }
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (options.create) flags |= SQLITE_OPEN_CREATE;
  int rc = sqlite3_open_v2(dsn.path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status s = FromSqlite(db, rc, "sqlite: cannot open " + dsn.path);
    sqlite3_close_v2(db);
    return s;
  }
  sqlite3_extended_result_codes(db, 1);
  if (options.max_params > 0) {
    sqlite3_limit(db, SQLITE_LIMIT_VARIABLE_NUMBER,
                  static_cast<int>(std::min<size_t>(options.max_params, INT32_MAX)));
  }
  auto busy_ms = std::chrono::duration_cast<std::chrono::milliseconds>(options.connect_timeout);
  sqlite3_busy_timeout(db, static_cast<int>(std::max<int64_t>(busy_ms.count(), 1000)));
  std::unique_ptr<Connection> conn = std::make_unique<SqliteConnection>(db);
  // 16 KiB pages for a new database (the size is fixed once the first table
  // exists, so this is a no-op on an existing file): rows are ~1 KB JSON
  // documents written in batches of hundreds, and larger pages mean fewer
  // B-tree splits and WAL frames per batch — measured 91-99k -> 111-136k
  // events/s in bench/sql_bench (docs/sql-store.md). Must precede WAL mode.
  {
    Status s = conn->Execute("PRAGMA page_size=16384");
    if (!s.ok()) return s.WithContext("sqlite: " + dsn.path);
  }
  // WAL: readers (history, pruner) never block the writer. synchronous=NORMAL
  // in WAL mode survives a process crash (every commit is in the WAL); a power
  // loss may roll back the last transactions, data and checkpoint together.
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL",
                             "PRAGMA foreign_keys=OFF", "PRAGMA cache_size=-65536"}) {
    Status s = conn->Execute(pragma);
    if (!s.ok()) return s.WithContext("sqlite: " + dsn.path);
  }
  // Fail now, not at the first batch, when the file is not a database.
  auto probe = conn->Query("SELECT count(*) FROM sqlite_master");
  if (!probe.ok()) return probe.status().WithContext("sqlite: " + dsn.path);
  return conn;
}

}  // namespace forcepipe::sql
