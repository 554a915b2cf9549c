#include "sinks/sql/sql_reader.h"

#include <charconv>

#include "sinks/sql/schema.h"

namespace forcepipe::sql {
namespace {

int64_t ToInt(const std::optional<std::string>& v) {
  int64_t out = 0;
  if (v) std::from_chars(v->data(), v->data() + v->size(), out);
  return out;
}

}  // namespace

SqlReader::SqlReader(const StoreOptions* options) : options_(options) {}

Status SqlReader::OpenExisting() {
  std::lock_guard<std::mutex> l(mu_);
  ConnectOptions o = options_->connect;
  o.create = false;
  FP_ASSIGN_OR_RETURN(auto c, Connect(options_->dsn, o));
  FP_ASSIGN_OR_RETURN(int version, ReadSchemaVersion(*c));
  if (version == 0) {
    return Status::NotFound(options_->dsn.Redacted() +
                            ": no forcepipe event store here (run the sql sink first)");
  }
  if (version > kSchemaVersion) {
    return Status::FailedPrecondition(options_->dsn.Redacted() + ": schema version " +
                                      std::to_string(version) +
                                      " was written by a newer forcepipe; upgrade forcepipe");
  }
  conn_ = std::move(c);
  return Status::Ok();
}

Result<std::vector<HistoryRow>> SqlReader::QueryHistory(const std::string& record_id, int limit,
                                                        const std::string& type) {
  if (limit <= 0) limit = 100;
  std::lock_guard<std::mutex> l(mu_);
  if (!conn_ || conn_->broken()) {
    conn_.reset();
    // Never create: a reader racing the writer's first open must not make the
    // database (or race its schema and WAL setup); it waits for the writer.
    ConnectOptions o = options_->connect;
    o.create = false;
    FP_ASSIGN_OR_RETURN(conn_, Connect(options_->dsn, o));
  }
  std::string sql =
      "SELECT e.event_uuid, o.object_type, e.source, e.event_type, e.ts_ms, e.replay_position, "
      "e.change_type, e.commit_user, e.transaction_key, e.changed_fields, e.payload "
      "FROM event_objects o JOIN events e ON e.event_uuid = o.event_uuid WHERE o.object_id = ?";
  std::vector<Param> p = {std::string_view(record_id)};
  if (!type.empty()) {
    sql += " AND (e.event_type = ? OR e.change_type = ?)";
    p.push_back(std::string_view(type));
    p.push_back(std::string_view(type));
  }
  sql += " ORDER BY o.ts_ms DESC, o.event_uuid DESC LIMIT " + std::to_string(limit);
  auto rows = conn_->Query(sql, p);
  if (!rows.ok()) {
    if (conn_->broken()) conn_.reset();
    return rows.status();
  }
  std::vector<HistoryRow> out;
  out.reserve(rows->size());
  for (auto& r : *rows) {
    HistoryRow h;
    h.event_uuid = r[0].value_or("");
    h.object_type = r[1].value_or("");
    h.source = r[2].value_or("");
    h.event_type = r[3].value_or("");
    h.ts_ms = ToInt(r[4]);
    h.replay_position = r[5].value_or("");
    h.change_type = r[6];
    h.commit_user = r[7];
    h.transaction_key = r[8];
    h.changed_fields = r[9];
    h.payload = r[10].value_or("");
    out.push_back(std::move(h));
  }
  return out;
}

}  // namespace forcepipe::sql
