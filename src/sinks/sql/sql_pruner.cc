#include "sinks/sql/sql_pruner.h"

#include <algorithm>

#include "sinks/sql/dialect.h"

namespace forcepipe::sql {
namespace {

std::string Placeholders(size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += i ? ", ?" : "?";
  return s;
}

}  // namespace

SqlPruner::SqlPruner(const StoreOptions* options, const Clock* clock, StoreCounters* counters)
    : options_(options), clock_(clock), counters_(counters) {}

Result<uint64_t> SqlPruner::PruneOnce(const std::atomic<bool>* stop) {
  if (options_->retention.empty() && options_->object_retention.empty()) return uint64_t{0};
  std::lock_guard<std::mutex> l(mu_);
  if (!conn_ || conn_->broken()) {
    conn_.reset();
    FP_ASSIGN_OR_RETURN(conn_, Connect(options_->dsn, options_->connect));
  }
  Connection* c = conn_.get();
  const Dialect& d = Dialect::For(c->backend());
  const int64_t now_ms = clock_->NowUnixNanos() / 1'000'000;
  const int64_t limit = std::max(1, options_->prune_batch);

  // Builds one bounded DELETE on `table` for the oldest rows matching `cond`.
  // ORDER BY ts_ms makes every planner walk the (…, ts_ms) index in order and
  // stop after `limit` rows (README.md shows the plans).
  auto bounded_delete = [&](std::string_view table, const std::string& cond) {
    return d.BoundedDelete(table, cond, limit);
  };
  auto loop = [&](const std::string& sql, const std::vector<Param>& params,
                  std::atomic<uint64_t>& counter, uint64_t& total) -> Status {
    while (!(stop && stop->load())) {
      int64_t n = 0;
      Status s = c->Execute(sql, params, &n);
      if (!s.ok()) {
        if (c->broken()) conn_.reset();
        return s;
      }
      counter += static_cast<uint64_t>(n);
      total += static_cast<uint64_t>(n);
      if (n < limit) break;
    }
    return Status::Ok();
  };
  auto ms = [](Duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  };

  // The event_type rules: the listed ones, plus "*" expanded to every other
  // type present (found by a loose index scan of events_type_ts, one seek per
  // distinct type), so each DELETE below is a range on an (event_type, ts_ms)
  // index.
  std::map<std::string, Duration> rules;
  std::optional<Duration> star;
  for (const auto& [t, d] : options_->retention) {
    if (t == "*") {
      star = d;
    } else {
      rules[t] = d;
    }
  }
  if (star) {
    auto types = c->Query(
        "WITH RECURSIVE t (v) AS (SELECT MIN(event_type) FROM events UNION ALL SELECT (SELECT "
        "MIN(event_type) FROM events WHERE event_type > t.v) FROM t WHERE t.v IS NOT NULL) "
        "SELECT v FROM t WHERE v IS NOT NULL");
    if (!types.ok()) {
      if (c->broken()) conn_.reset();
      return types.status();
    }
    for (const auto& r : *types) rules.emplace(r[0].value_or(""), *star);  // listed types win
  }
  uint64_t objects_total = 0, events_total = 0;

  // 1. event_objects rows by object type (overrides).
  for (const auto& [otype, age] : options_->object_retention) {
    std::vector<Param> p = {std::string_view(otype), now_ms - ms(age)};
    FP_RETURN_IF_ERROR(loop(bounded_delete("event_objects", "object_type = ? AND ts_ms < ?"), p,
                            counters_->objects_pruned, objects_total));
  }
  // 2. event_objects rows by their event's type, except overridden object types.
  std::string not_overridden;
  if (!options_->object_retention.empty()) {
    not_overridden =
        " AND object_type NOT IN (" + Placeholders(options_->object_retention.size()) + ")";
  }
  for (const auto& [etype, age] : rules) {
    std::vector<Param> p = {std::string_view(etype), now_ms - ms(age)};
    for (const auto& [otype, _] : options_->object_retention) p.push_back(std::string_view(otype));
    FP_RETURN_IF_ERROR(
        loop(bounded_delete("event_objects", "event_type = ? AND ts_ms < ?" + not_overridden), p,
             counters_->objects_pruned, objects_total));
  }
  // 3. events past their type's age that no event_objects row references.
  // (PostgreSQL: OFFSET 0 keeps NOT EXISTS a per-row index probe instead of a
  // hash anti-join over all of event_objects.)
  const std::string unreferenced =
      std::string(
          " AND NOT EXISTS (SELECT 1 FROM event_objects o WHERE o.event_uuid = "
          "events.event_uuid") +
      std::string(d.close_not_exists());
  for (const auto& [etype, age] : rules) {
    std::vector<Param> p = {std::string_view(etype), now_ms - ms(age)};
    FP_RETURN_IF_ERROR(loop(bounded_delete("events", "event_type = ? AND ts_ms < ?" + unreferenced),
                            p, counters_->events_pruned, events_total));
  }
  counters_->prune_runs++;
  return events_total;
}

}  // namespace forcepipe::sql
