#pragma once

// `forcepipe history RECORD_ID [--limit N] [--type T] [--json] -c FILE`: prints
// one record's history from the sql sink's event store, newest first — change
// type, time, user, and the changed fields with their values taken from the
// stored payload.

#include <ostream>
#include <string>
#include <vector>

#include "config/node.h"
#include "sinks/sql/sql_store.h"

namespace forcepipe::sql {

// Renders `rows` as text (one block per event) or, with `json`, as a JSON
// array of objects {event_uuid, time, ts_ms, change_type, event_type,
// object_type, commit_user, transaction_key, replay_position, source,
// changed_fields: {name: value}, payload}.
void PrintHistory(const std::vector<HistoryRow>& rows, bool json, std::ostream& out);

// The values of `changed_fields` (a JSON array of names; "Name.FirstName"
// walks into compound fields) in `payload`, as JSON text per field; a field
// the payload lacks maps to "null". Invalid JSON input: empty.
std::vector<std::pair<std::string, std::string>> ChangedValues(const std::string& payload,
                                                               const std::string& changed_fields);

// `forcepipe history` from parsed store options (RunHistoryCommand calls it):
// opens the existing store (never creates or migrates anything), queries,
// prints. Returns 0, or 1 with the error on `err` (password redacted).
int RunHistory(const StoreOptions& options, const std::string& record_id, int limit,
               const std::string& type, bool json, std::ostream& out, std::ostream& err);

}  // namespace forcepipe::sql

namespace forcepipe {

// The CLI entry point. `sink_section` is the validated `sinks.<name>` section
// of kind sql. Returns the process exit code: 0 ok, 1 store error (message on
// `err`, password redacted).
int RunHistoryCommand(const config::Node& sink_section, const std::string& record_id, int limit,
                      const std::string& type, bool json, std::ostream& out, std::ostream& err);

}  // namespace forcepipe
