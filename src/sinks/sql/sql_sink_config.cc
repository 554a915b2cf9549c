// Config -> SqlSink. Kept apart from sql_sink.cc so code that builds a sink
// from SqlSinkOptions directly (tests, the benchmark) does not link the config
// implementation.

#include "sinks/sql/sql_sink.h"

namespace forcepipe {
namespace sql {

const config::OptionTable& SqlSinkOptionTable() {
  using config::Option;
  using config::OptionType;
  static const config::OptionTable table = [] {
    config::OptionTable t;
    Option dsn;
    dsn.key = "dsn";
    dsn.type = OptionType::kSecret;
    dsn.required = true;
    dsn.description =
        "Database: sqlite:///path/events.db, postgresql://user:password@host:5432/db or "
        "mariadb://user:password@host:3306/db (the password is never logged)";
    dsn.example = "sqlite:///var/lib/forcepipe/events.db";
    t.push_back(dsn);
    Option timeout;
    timeout.key = "connect_timeout";
    timeout.type = OptionType::kDuration;
    timeout.default_value = "10s";
    timeout.min = 1;
    timeout.description = "Connect timeout (SQLite: how long to wait for a locked database)";
    t.push_back(timeout);
    Option retention;
    retention.key = "retention";
    retention.type = OptionType::kStringMap;
    retention.description =
        "Max age of events per event_type (\"30d\", \"12h\", \"1d12h\"); key \"*\" for every other "
        "type. Types without a rule are kept forever. An event stays while any of its "
        "event_objects links is younger than its own rule.";
    retention.example = "{AccountChangeEvent: 90d, \"*\": 30d}";
    t.push_back(retention);
    Option object_retention;
    object_retention.key = "object_retention";
    object_retention.type = OptionType::kStringMap;
    object_retention.description =
        "Max age of an event's link to a record, per object type (\"Contact\": 365d), overriding "
        "the event_type rule for that object type: the event stays visible from that record";
    object_retention.example = "{Contact: 365d}";
    t.push_back(object_retention);
    Option interval;
    interval.key = "prune_interval";
    interval.type = OptionType::kDuration;
    interval.default_value = "5m";
    interval.min = 1;
    interval.description = "How often the background thread prunes aged-out rows";
    t.push_back(interval);
    Option batch;
    batch.key = "prune_batch";
    batch.type = OptionType::kInt;
    batch.default_value = "1000";
    batch.min = 1;
    batch.max = 100000;
    batch.description = "Rows deleted per pruning statement (each its own short transaction)";
    t.push_back(batch);
    return t;
  }();
  return table;
}

Result<SqlSinkOptions> ParseSqlSinkOptions(const config::Node& section) {
  SqlSinkOptions o;
  auto dsn = ParseDsn(section.GetString("dsn"));
  if (!dsn.ok()) return dsn.status().WithContext(section.PathOf("dsn"));
  o.store.dsn = std::move(*dsn);
  o.store.connect.connect_timeout = section.GetDuration("connect_timeout");
  for (const auto& [type, age] : section.GetStringMap("retention")) {
    auto d = ParseRetentionAge(age);
    if (!d.ok()) return d.status().WithContext(section.PathOf("retention") + "." + type);
    o.store.retention[type] = *d;
  }
  for (const auto& [type, age] : section.GetStringMap("object_retention")) {
    auto d = ParseRetentionAge(age);
    if (!d.ok()) return d.status().WithContext(section.PathOf("object_retention") + "." + type);
    o.store.object_retention[type] = *d;
  }
  o.prune_interval = section.GetDuration("prune_interval");
  o.store.prune_batch = static_cast<int>(section.GetInt("prune_batch"));
  return o;
}

}  // namespace sql

SinkFactory SqlSinkFactory() {
  SinkFactory f;
  f.kind = "sql";
  f.description =
      "Event store in SQLite, PostgreSQL or MariaDB: events + event_objects + checkpoints in one "
      "transaction per batch (effectively-once), retention pruning, per-record history";
  f.options = &sql::SqlSinkOptionTable();
  f.create = [](const config::Node& section,
                const FactoryContext& ctx) -> Result<std::unique_ptr<Sink>> {
    FP_ASSIGN_OR_RETURN(auto options, sql::ParseSqlSinkOptions(section));
    return std::unique_ptr<Sink>(std::make_unique<sql::SqlSink>(std::move(options), ctx.clock));
  };
  return f;
}

}  // namespace forcepipe
