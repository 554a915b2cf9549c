#include "sinks/sql/dialect.h"

namespace forcepipe::sql {

struct DialectTable {
  static constexpr std::string_view kOnConflictUpsert =
      " ON CONFLICT (\"key\") DO UPDATE SET value = excluded.value, updated_at = "
      "excluded.updated_at, epoch = excluded.epoch";
  static const Dialect kSqlite, kPostgres, kMariaDb;
};

constinit const Dialect DialectTable::kSqlite{Backend::kSqlite,
                                              "BEGIN IMMEDIATE",
                                              " ON CONFLICT DO NOTHING",
                                              kOnConflictUpsert,
                                              "",
                                              /*by_bytes=*/false,
                                              /*validate_json=*/true,
                                              /*quick_check=*/true,
                                              ")"};
constinit const Dialect DialectTable::kPostgres{
    Backend::kPostgres,      "BEGIN",       " ON CONFLICT DO NOTHING",
    kOnConflictUpsert,       " FOR UPDATE",
    /*by_bytes=*/false,
    /*validate_json=*/false,
    /*quick_check=*/false,   " OFFSET 0)"};
constinit const Dialect DialectTable::kMariaDb{
    Backend::kMariaDb,
    "BEGIN",
    " ON DUPLICATE KEY UPDATE event_uuid = event_uuid",
    " ON DUPLICATE KEY UPDATE value = VALUES(value), updated_at = VALUES(updated_at), "
    "epoch = VALUES(epoch)",
    " FOR UPDATE",
    /*by_bytes=*/true,
    /*validate_json=*/false,
    /*quick_check=*/false,
    ")"};

const Dialect& Dialect::For(Backend backend) {
  switch (backend) {
    case Backend::kSqlite:
      return DialectTable::kSqlite;
    case Backend::kPostgres:
      return DialectTable::kPostgres;
    case Backend::kMariaDb:
      return DialectTable::kMariaDb;
  }
  return DialectTable::kSqlite;
}

std::string Dialect::BoundedDelete(std::string_view table, std::string_view cond,
                                   int64_t limit) const {
  const std::string t(table);
  const std::string where = " WHERE " + std::string(cond);
  const std::string tail = " ORDER BY ts_ms LIMIT " + std::to_string(limit);
  switch (backend_) {
    case Backend::kSqlite:
      return "DELETE FROM " + t + " WHERE rowid IN (SELECT rowid FROM " + t + where + tail + ")";
    case Backend::kPostgres:
      return "DELETE FROM " + t + " WHERE ctid = ANY(ARRAY(SELECT ctid FROM " + t + where + tail +
             "))";
    case Backend::kMariaDb:
      break;
  }
  return "DELETE FROM " + t + where + tail;
}

}  // namespace forcepipe::sql
