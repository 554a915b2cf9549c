#pragma once

// The event store schema and its migrations. Version history:
//   1  events, event_objects, checkpoints, checkpoint_epoch, forcepipe_schema
//   2  SQLite: events rebuilt without the json_valid CHECKs (the store
//      validates JSON itself); PostgreSQL, MariaDB: unchanged
//
// Thread safety: functions use only the connection they are given.

#include "core/status.h"
#include "sinks/sql/connection.h"

namespace forcepipe::sql {

// Reads the schema version (0: no forcepipe schema in this database).
Result<int> ReadSchemaVersion(Connection& c);

// Creates or migrates the schema to `target` (kSchemaVersion; tests pass a
// lower one to build an old database), applying each missing version in
// order. Refuses with kFailedPrecondition when the database is newer than
// `target`.
Status Migrate(Connection& c, int target, int64_t now_ms);

}  // namespace forcepipe::sql
