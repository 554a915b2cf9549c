#pragma once

// The event store schema and its migrations. Version history:
//   1  events, event_objects, checkpoints, checkpoint_epoch, forcepipe_schema
//
// Thread safety: functions use only the connection they are given.

#include "core/status.h"
#include "sinks/sql/connection.h"

namespace forcepipe::sql {

// Reads the schema version (0: no forcepipe schema in this database).
Result<int> ReadSchemaVersion(Connection& c);

// Creates or migrates the schema to `target` (kSchemaVersion). Refuses with
// kFailedPrecondition when the database is newer than `target`.
Status Migrate(Connection& c, int target, int64_t now_ms);

}  // namespace forcepipe::sql
