#include "checkpoint/sqlite_store.h"

#include <sqlite3.h>

#include <filesystem>
#include <limits>
#include <set>

#include "checkpoint/commit_logic.h"

namespace forcepipe {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS forcepipe_checkpoints (
  key TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  epoch INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS forcepipe_checkpoint_fence (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  max_epoch INTEGER NOT NULL
);
INSERT OR IGNORE INTO forcepipe_checkpoint_fence (id, max_epoch) VALUES (1, 0);
PRAGMA application_id = 1179665236;
)sql";

// PRAGMA application_id of a database this store has initialised ("FPCT"): a
// marked database whose tables are gone was damaged, not new.
constexpr int64_t kApplicationId = 1179665236;

// Resets a statement when the scope ends.
struct Reset {
  sqlite3_stmt* s;
  ~Reset() {
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
  }
};

std::string ColumnBytes(sqlite3_stmt* s, int col) {
  const void* p = sqlite3_column_blob(s, col);
  int n = sqlite3_column_bytes(s, col);
  return p ? std::string(static_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
}

int BindText(sqlite3_stmt* s, int idx, std::string_view v) {
  return sqlite3_bind_text64(s, idx, v.data(), v.size(), SQLITE_STATIC, SQLITE_UTF8);
}

// Refuses a value that is not TEXT (the store writes only TEXT): a BLOB,
// number or NULL was written by something else and must not be read as "".
Status CheckValueType(sqlite3_stmt* s, int col, const std::string& path, std::string_view key) {
  int type = sqlite3_column_type(s, col);
  if (type == SQLITE_TEXT) return Status::Ok();
  const char* name = type == SQLITE_BLOB      ? "a BLOB"
                     : type == SQLITE_NULL    ? "NULL"
                     : type == SQLITE_INTEGER ? "an INTEGER"
                                              : "a REAL";
  return Status::Corruption("checkpoint database " + path + ": key \"" +
                            checkpoint::PrintableKey(key) + "\" holds " + name +
                            ", not a stored position (edited by another program?); restore the "
                            "database from a backup, or set the position with `forcepipe state "
                            "set` / remove it with `forcepipe state delete`");
}

bool IsCorruptCode(int rc) {
  int primary = rc & 0xff;
  return primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB;
}

}  // namespace

Status SqliteCheckpointStore::Error(const std::string& what) const {
  int rc = sqlite3_extended_errcode(db_);
  std::string msg = "checkpoint database " + path_ + ": " + what + ": " + sqlite3_errmsg(db_);
  if (IsCorruptCode(rc)) {
    return Status::Corruption(msg +
                              "; refusing to continue rather than lose stream positions: restore "
                              "the database from a backup, or move it away to start over");
  }
  int primary = rc & 0xff;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) return Status::Unavailable(msg);
  return Status::IOError(msg);
}

Result<std::unique_ptr<SqliteCheckpointStore>> SqliteCheckpointStore::Open(const std::string& path,
                                                                           const Clock* clock) {
  if (path.empty()) return Status::InvalidArgument("checkpoint database path is empty");
  {
    // SQLite takes an empty file for a new database: an existing 0-byte file
    // is damaged state (truncated, or replaced), never a fresh start.
    std::error_code ec;
    if (std::filesystem::is_regular_file(path, ec) && std::filesystem::file_size(path, ec) == 0 &&
        !ec) {
      return Status::Corruption("checkpoint database " + path +
                                " is an empty (0-byte) file, not a database; refusing to start "
                                "every stream over: restore it from a backup, or delete it to "
                                "start over");
    }
  }
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      return Status::IOError("cannot create directory " + parent.string() +
                             " for checkpoint database " + path + ": " + ec.message());
    }
  }
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return Status::IOError("cannot open checkpoint database " + path + ": " + msg);
  }
  sqlite3_extended_result_codes(db, 1);
  std::unique_ptr<SqliteCheckpointStore> store(new SqliteCheckpointStore(path, db, clock));
  FP_RETURN_IF_ERROR(store->Prepare());
  return store;
}

SqliteCheckpointStore::SqliteCheckpointStore(std::string path, sqlite3* db, const Clock* clock)
    : path_(std::move(path)), db_(db), clock_(clock) {}

SqliteCheckpointStore::~SqliteCheckpointStore() {
  for (sqlite3_stmt* s :
       {begin_, commit_, rollback_, get_, get_all_, put_, del_, get_epoch_, set_epoch_}) {
    sqlite3_finalize(s);
  }
  sqlite3_close(db_);
}

Status SqliteCheckpointStore::Prepare() {
  sqlite3_busy_timeout(db_, 10000);
  // journal_mode reads the header: a file that is not a database fails here.
  if (sqlite3_exec(db_, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return Error("enabling WAL");
  }
  if (sqlite3_exec(db_, "PRAGMA synchronous=FULL", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return Error("setting synchronous=FULL");
  }
  {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, "PRAGMA quick_check", -1, &s, nullptr) != SQLITE_OK) {
      return Error("quick_check");
    }
    std::string problems;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      std::string line = ColumnBytes(s, 0);
      if (line != "ok") problems += (problems.empty() ? "" : "; ") + line;
    }
    if (rc != SQLITE_DONE) {
      Status st = Error("quick_check");
      sqlite3_finalize(s);
      return st;
    }
    sqlite3_finalize(s);
    if (!problems.empty()) {
      return Status::Corruption("checkpoint database " + path_ +
                                " is corrupt (quick_check: " + problems.substr(0, 500) +
                                "); restore it from a backup, or move it away to start over");
    }
  }
  {
    // An initialised database (marked, or holding one of the two tables)
    // whose checkpoint or fence table is missing was damaged: recreating the
    // table would restart every stream from its start position.
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_,
                           "SELECT (SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                           "name = 'forcepipe_checkpoints'), (SELECT count(*) FROM sqlite_master "
                           "WHERE type = 'table' AND name = 'forcepipe_checkpoint_fence'), "
                           "(SELECT application_id FROM pragma_application_id)",
                           -1, &s, nullptr) != SQLITE_OK) {
      return Error("reading the schema");
    }
    if (sqlite3_step(s) != SQLITE_ROW) {
      Status st = Error("reading the schema");
      sqlite3_finalize(s);
      return st;
    }
    const bool has_cp = sqlite3_column_int64(s, 0) > 0;
    const bool has_fence = sqlite3_column_int64(s, 1) > 0;
    const bool marked = sqlite3_column_int64(s, 2) == kApplicationId;
    sqlite3_finalize(s);
    // (A lone checkpoint table in an unmarked database is left to the shape
    // check below: it may be another program's.)
    if ((!has_cp || !has_fence) && (marked || (has_fence && !has_cp))) {
      return Status::Corruption(
          "checkpoint database " + path_ + " was initialised by forcepipe but table " +
          (has_cp ? "forcepipe_checkpoint_fence" : "forcepipe_checkpoints") +
          " is missing (dropped?); refusing to start every stream over: restore the database "
          "from a backup, or delete it to start over");
    }
  }
  if (sqlite3_exec(db_, kSchema, nullptr, nullptr, nullptr) != SQLITE_OK) {
    return Error("creating the schema");
  }
  {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, "PRAGMA table_info(forcepipe_checkpoints)", -1, &s, nullptr) !=
        SQLITE_OK) {
      return Error("reading the schema");
    }
    std::set<std::string> cols;
    while (sqlite3_step(s) == SQLITE_ROW) cols.insert(ColumnBytes(s, 1));
    sqlite3_finalize(s);
    for (const char* want : {"key", "value", "updated_at", "epoch"}) {
      if (!cols.count(want)) {
        return Status::FailedPrecondition("checkpoint database " + path_ +
                                          ": table forcepipe_checkpoints has no column " + want +
                                          "; it was not created by forcepipe");
      }
    }
  }
  struct {
    sqlite3_stmt** stmt;
    const char* sql;
  } stmts[] = {
      {&begin_, "BEGIN IMMEDIATE"},
      {&commit_, "COMMIT"},
      {&rollback_, "ROLLBACK"},
      {&get_, "SELECT value FROM forcepipe_checkpoints WHERE key = ?1"},
      {&get_all_, "SELECT key, value FROM forcepipe_checkpoints"},
      {&put_,
       "INSERT INTO forcepipe_checkpoints (key, value, updated_at, epoch) VALUES (?1, ?2, ?3, ?4) "
       "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, "
       "epoch = excluded.epoch"},
      {&del_, "DELETE FROM forcepipe_checkpoints WHERE key = ?1"},
      {&get_epoch_, "SELECT max_epoch FROM forcepipe_checkpoint_fence WHERE id = 1"},
      {&set_epoch_,
       "UPDATE forcepipe_checkpoint_fence SET max_epoch = max(max_epoch, ?1) WHERE id = 1"},
  };
  for (auto& st : stmts) {
    if (sqlite3_prepare_v3(db_, st.sql, -1, SQLITE_PREPARE_PERSISTENT, st.stmt, nullptr) !=
        SQLITE_OK) {
      return Error(std::string("preparing ") + st.sql);
    }
  }
  return Status::Ok();
}

Result<std::optional<std::string>> SqliteCheckpointStore::Load(std::string_view key) {
  std::lock_guard<std::mutex> l(mu_);
  Reset r{get_};
  BindText(get_, 1, key);
  int rc = sqlite3_step(get_);
  if (rc == SQLITE_ROW) {
    FP_RETURN_IF_ERROR(CheckValueType(get_, 0, path_, key));
    return std::optional<std::string>(ColumnBytes(get_, 0));
  }
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  return Error("loading a checkpoint");
}

Result<CheckpointMap> SqliteCheckpointStore::LoadAll() {
  std::lock_guard<std::mutex> l(mu_);
  Reset r{get_all_};
  CheckpointMap out;
  int rc;
  while ((rc = sqlite3_step(get_all_)) == SQLITE_ROW) {
    std::string key = ColumnBytes(get_all_, 0);
    FP_RETURN_IF_ERROR(CheckValueType(get_all_, 1, path_, key));
    out.emplace(std::move(key), ColumnBytes(get_all_, 1));
  }
  if (rc != SQLITE_DONE) return Error("loading checkpoints");
  return out;
}

Status SqliteCheckpointStore::Commit(const CommitRequest& request) {
  FP_RETURN_IF_ERROR(checkpoint::CheckRequestShape(request));
  if (request.epoch > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return Status::InvalidArgument("checkpoint database " + path_ + ": epoch " +
                                   std::to_string(request.epoch) + " is out of range");
  }
  std::lock_guard<std::mutex> l(mu_);
  {
    Reset r{begin_};
    if (sqlite3_step(begin_) != SQLITE_DONE) return Error("BEGIN");
  }
  Status s = CommitLocked(request);
  if (s.ok()) {
    Reset r{commit_};
    if (sqlite3_step(commit_) == SQLITE_DONE) return Status::Ok();
    s = Error("COMMIT");
  }
  if (!sqlite3_get_autocommit(db_)) {
    Reset r{rollback_};
    (void)sqlite3_step(rollback_);
  }
  return s;
}

Status SqliteCheckpointStore::CommitLocked(const CommitRequest& request) {
  uint64_t max_epoch = 0;
  {
    Reset r{get_epoch_};
    if (sqlite3_step(get_epoch_) != SQLITE_ROW) return Error("reading the fence epoch");
    max_epoch = static_cast<uint64_t>(sqlite3_column_int64(get_epoch_, 0));
  }
  const std::string name = "checkpoint database " + path_;
  if (request.epoch < max_epoch) {
    return Status::Fenced(name + ": commit with epoch " + std::to_string(request.epoch) +
                          " is fenced by epoch " + std::to_string(max_epoch));
  }
  for (const auto& [key, want] : request.expect) {
    Reset r{get_};
    BindText(get_, 1, key);
    int rc = sqlite3_step(get_);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Error("reading an expected checkpoint");
    bool matches = want.has_value() ? (rc == SQLITE_ROW && ColumnBytes(get_, 0) == *want)
                                    : (rc == SQLITE_DONE);
    if (!matches) {
      return Status::Conflict(name + ": key \"" + checkpoint::PrintableKey(key) +
                              (want.has_value() ? "\" does not hold the expected value"
                                                : "\" was expected to be absent"));
    }
  }
  for (const auto& key : request.erase) {
    Reset r{del_};
    BindText(del_, 1, key);
    if (sqlite3_step(del_) != SQLITE_DONE) return Error("deleting a checkpoint");
  }
  const int64_t now = clock_->NowUnixNanos();
  for (const auto& [key, value] : request.set) {
    Reset r{put_};
    BindText(put_, 1, key);
    BindText(put_, 2, value);
    sqlite3_bind_int64(put_, 3, now);
    sqlite3_bind_int64(put_, 4, static_cast<int64_t>(request.epoch));
    if (sqlite3_step(put_) != SQLITE_DONE) return Error("writing a checkpoint");
  }
  if (request.epoch > max_epoch) {
    Reset r{set_epoch_};
    sqlite3_bind_int64(set_epoch_, 1, static_cast<int64_t>(request.epoch));
    if (sqlite3_step(set_epoch_) != SQLITE_DONE) return Error("raising the fence epoch");
  }
  return Status::Ok();
}

}  // namespace forcepipe
