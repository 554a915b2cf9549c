#include "sinks/sql/schema.h"

#include <charconv>
#include <iterator>
#include <string>
#include <vector>

namespace forcepipe::sql {
namespace {

// Migration 1, per backend. Every statement is idempotent (IF NOT EXISTS) so
// a migration interrupted on MariaDB, whose DDL is not transactional, can be
// run again.
//
// Column notes:
//   ts_ms         event time, milliseconds since the Unix epoch (UTC)
//   ingested_at   when forcepipe wrote the row, same unit
//   event_objects carries copies of event_type and ts_ms so the history query
//                 (object_id, ts_ms, event_uuid) and per-object pruning (event_type or
//                 object_type, ts_ms) are index range scans without a join.
std::vector<std::string> MigrationV1(Backend b) {
  switch (b) {
    case Backend::kSqlite:
      return {
          R"(CREATE TABLE IF NOT EXISTS events (
  event_uuid TEXT PRIMARY KEY,
  org TEXT,
  source TEXT,
  event_type TEXT NOT NULL,
  ts_ms INTEGER NOT NULL,
  replay_position TEXT,
  change_type TEXT,
  transaction_key TEXT,
  commit_user TEXT,
  payload TEXT NOT NULL CHECK (json_valid(payload)),
  changed_fields TEXT CHECK (changed_fields IS NULL OR json_valid(changed_fields)),
  ingested_at INTEGER NOT NULL))",
          "CREATE INDEX IF NOT EXISTS events_type_ts ON events (event_type, ts_ms)",
          R"(CREATE TABLE IF NOT EXISTS event_objects (
  object_type TEXT NOT NULL,
  object_id TEXT NOT NULL,
  event_uuid TEXT NOT NULL,
  event_type TEXT NOT NULL,
  ts_ms INTEGER NOT NULL,
  PRIMARY KEY (object_type, object_id, event_uuid)))",
          "CREATE INDEX IF NOT EXISTS event_objects_event ON event_objects (event_uuid)",
          "CREATE INDEX IF NOT EXISTS event_objects_history ON event_objects (object_id, ts_ms, "
          "event_uuid)",
          "CREATE INDEX IF NOT EXISTS event_objects_type_ts ON event_objects (event_type, ts_ms)",
          "CREATE INDEX IF NOT EXISTS event_objects_otype_ts ON event_objects (object_type, ts_ms)",
          R"(CREATE TABLE IF NOT EXISTS checkpoints (
  "key" TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  epoch INTEGER NOT NULL DEFAULT 0))",
          "CREATE TABLE IF NOT EXISTS checkpoint_epoch (id INTEGER PRIMARY KEY, epoch INTEGER "
          "NOT NULL)",
          "INSERT INTO checkpoint_epoch (id, epoch) VALUES (1, 0) ON CONFLICT (id) DO NOTHING",
      };
    case Backend::kPostgres:
      return {
          R"(CREATE TABLE IF NOT EXISTS events (
  event_uuid TEXT PRIMARY KEY,
  org TEXT,
  source TEXT,
  event_type TEXT NOT NULL,
  ts_ms BIGINT NOT NULL,
  replay_position TEXT,
  change_type TEXT,
  transaction_key TEXT,
  commit_user TEXT,
  payload JSONB NOT NULL,
  changed_fields JSONB,
  ingested_at BIGINT NOT NULL))",
          "CREATE INDEX IF NOT EXISTS events_type_ts ON events (event_type, ts_ms)",
          R"(CREATE TABLE IF NOT EXISTS event_objects (
  object_type TEXT NOT NULL,
  object_id TEXT NOT NULL,
  event_uuid TEXT NOT NULL,
  event_type TEXT NOT NULL,
  ts_ms BIGINT NOT NULL,
  PRIMARY KEY (object_type, object_id, event_uuid)))",
          "CREATE INDEX IF NOT EXISTS event_objects_event ON event_objects (event_uuid)",
          "CREATE INDEX IF NOT EXISTS event_objects_history ON event_objects (object_id, ts_ms, "
          "event_uuid)",
          "CREATE INDEX IF NOT EXISTS event_objects_type_ts ON event_objects (event_type, ts_ms)",
          "CREATE INDEX IF NOT EXISTS event_objects_otype_ts ON event_objects (object_type, ts_ms)",
          R"(CREATE TABLE IF NOT EXISTS checkpoints (
  "key" TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  epoch BIGINT NOT NULL DEFAULT 0))",
          "CREATE TABLE IF NOT EXISTS checkpoint_epoch (id INTEGER PRIMARY KEY, epoch BIGINT NOT "
          "NULL)",
          "INSERT INTO checkpoint_epoch (id, epoch) VALUES (1, 0) ON CONFLICT (id) DO NOTHING",
      };
    case Backend::kMariaDb:
      // utf8mb4_bin: Salesforce 15-character ids are case-sensitive.
      return {
          R"(CREATE TABLE IF NOT EXISTS events (
  event_uuid VARCHAR(191) NOT NULL PRIMARY KEY,
  org VARCHAR(64),
  source VARCHAR(255),
  event_type VARCHAR(255) NOT NULL,
  ts_ms BIGINT NOT NULL,
  replay_position VARCHAR(255),
  change_type VARCHAR(64),
  transaction_key VARCHAR(255),
  commit_user VARCHAR(64),
  payload JSON NOT NULL,
  changed_fields JSON,
  ingested_at BIGINT NOT NULL,
  INDEX events_type_ts (event_type, ts_ms)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin)",
          R"(CREATE TABLE IF NOT EXISTS event_objects (
  object_type VARCHAR(128) NOT NULL,
  object_id VARCHAR(64) NOT NULL,
  event_uuid VARCHAR(191) NOT NULL,
  event_type VARCHAR(255) NOT NULL,
  ts_ms BIGINT NOT NULL,
  PRIMARY KEY (object_type, object_id, event_uuid),
  INDEX event_objects_event (event_uuid),
  INDEX event_objects_history (object_id, ts_ms, event_uuid),
  INDEX event_objects_type_ts (event_type, ts_ms),
  INDEX event_objects_otype_ts (object_type, ts_ms)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin)",
          R"(CREATE TABLE IF NOT EXISTS checkpoints (
  "key" VARCHAR(512) NOT NULL PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  epoch BIGINT NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin)",
          "CREATE TABLE IF NOT EXISTS checkpoint_epoch (id INTEGER NOT NULL PRIMARY KEY, epoch "
          "BIGINT NOT NULL) ENGINE=InnoDB",
          "INSERT IGNORE INTO checkpoint_epoch (id, epoch) VALUES (1, 0)",
      };
  }
  return {};
}

// Migration 2. SQLite: `events` without the json_valid CHECKs on payload and
// changed_fields. They cost a full JSON parse per row inside the write
// transaction (about 30 % of the SQLite write path's instructions); the store
// now validates both with simdjson before binding (sql_store.cc), so invalid
// JSON is still refused, per entry, on every backend. SQLite cannot drop a
// CHECK in place: the table is rebuilt (the procedure in "Making Other Kinds
// Of Table Schema Changes", https://sqlite.org/lang_altertable.html), which
// copies every row once — a one-off cost proportional to the table, inside the
// migration's transaction. PostgreSQL and MariaDB: no change (JSONB / JSON
// validate server-side), only the version row.
std::vector<std::string> MigrationV2(Backend b) {
  if (b != Backend::kSqlite) return {};
  return {
      R"(CREATE TABLE events_v2 (
  event_uuid TEXT PRIMARY KEY,
  org TEXT,
  source TEXT,
  event_type TEXT NOT NULL,
  ts_ms INTEGER NOT NULL,
  replay_position TEXT,
  change_type TEXT,
  transaction_key TEXT,
  commit_user TEXT,
  payload TEXT NOT NULL,
  changed_fields TEXT,
  ingested_at INTEGER NOT NULL))",
      "INSERT INTO events_v2 (rowid, event_uuid, org, source, event_type, ts_ms, "
      "replay_position, change_type, transaction_key, commit_user, payload, changed_fields, "
      "ingested_at) SELECT rowid, event_uuid, org, source, event_type, ts_ms, replay_position, "
      "change_type, transaction_key, commit_user, payload, changed_fields, ingested_at FROM "
      "events ORDER BY rowid",
      "DROP TABLE events",
      "ALTER TABLE events_v2 RENAME TO events",
      "CREATE INDEX events_type_ts ON events (event_type, ts_ms)",
  };
}

std::string SchemaTableDdl(Backend b) {
  std::string ddl =
      "CREATE TABLE IF NOT EXISTS forcepipe_schema (version INTEGER NOT NULL PRIMARY KEY, "
      "applied_at BIGINT NOT NULL)";
  if (b == Backend::kMariaDb) ddl += " ENGINE=InnoDB";
  return ddl;
}

}  // namespace

Result<int> ReadSchemaVersion(Connection& c) {
  std::string probe;
  switch (c.backend()) {
    case Backend::kSqlite:
      probe =
          "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = "
          "'forcepipe_schema'";
      break;
    case Backend::kPostgres:
      probe =
          "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND "
          "tablename = 'forcepipe_schema'";
      break;
    case Backend::kMariaDb:
      probe =
          "SELECT count(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND "
          "table_name = 'forcepipe_schema'";
      break;
  }
  FP_ASSIGN_OR_RETURN(auto exists, c.Query(probe));
  if (exists.empty() || !exists[0][0] || *exists[0][0] == "0") return 0;
  FP_ASSIGN_OR_RETURN(auto rows, c.Query("SELECT MAX(version) FROM forcepipe_schema"));
  if (rows.empty() || !rows[0][0]) return 0;
  int v = 0;
  const std::string& t = *rows[0][0];
  std::from_chars(t.data(), t.data() + t.size(), v);
  return v;
}

Status Migrate(Connection& c, int target, int64_t now_ms) {
  const bool transactional_ddl = c.backend() != Backend::kMariaDb;
  FP_RETURN_IF_ERROR(c.Execute(SchemaTableDdl(c.backend())));
  if (transactional_ddl) {
    FP_RETURN_IF_ERROR(c.Execute(c.backend() == Backend::kSqlite ? "BEGIN IMMEDIATE" : "BEGIN"));
    if (c.backend() == Backend::kPostgres) {
      // Serialise concurrent first starts.
      Status s = c.Execute("LOCK TABLE forcepipe_schema IN EXCLUSIVE MODE");
      if (!s.ok()) {
        (void)c.Execute("ROLLBACK");
        return s;
      }
    }
  }
  auto run = [&]() -> Status {
    FP_ASSIGN_OR_RETURN(int version, ReadSchemaVersion(c));
    if (version > target) {
      return Status::FailedPrecondition(
          "database schema version " + std::to_string(version) +
          " was written by a newer forcepipe (this one understands up to " +
          std::to_string(target) + "); upgrade forcepipe or point it at another database");
    }
    using MigrationFn = std::vector<std::string> (*)(Backend);
    constexpr MigrationFn kMigrations[] = {MigrationV1, MigrationV2};
    for (int v = version + 1; v <= target; ++v) {
      if (v < 1 || v > static_cast<int>(std::size(kMigrations))) {
        return Status::Internal("no migration to schema version " + std::to_string(v));
      }
      for (const auto& stmt : kMigrations[v - 1](c.backend())) {
        Status s = c.Execute(stmt);
        if (!s.ok()) return s.WithContext("migration to schema version " + std::to_string(v));
      }
      Param p[] = {int64_t{v}, now_ms};
      FP_RETURN_IF_ERROR(
          c.Execute("INSERT INTO forcepipe_schema (version, applied_at) VALUES (?, ?)", p));
    }
    return Status::Ok();
  };
  Status s = run();
  if (transactional_ddl) {
    if (s.ok()) {
      s = c.Execute("COMMIT");
    } else {
      (void)c.Execute("ROLLBACK");
    }
  }
  return s;
}

}  // namespace forcepipe::sql
