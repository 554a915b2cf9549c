#include "sinks/sql/sql_store.h"

#include <charconv>
#include <cstdio>
#include <set>

#include "sinks/sql/schema.h"

namespace forcepipe::sql {
namespace {

constexpr std::string_view kEventColumns =
    "(event_uuid, org, source, event_type, ts_ms, replay_position, change_type, transaction_key, "
    "commit_user, payload, changed_fields, ingested_at)";
constexpr std::string_view kEventRow = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
constexpr std::string_view kObjectColumns =
    "(object_type, object_id, event_uuid, event_type, ts_ms)";
constexpr std::string_view kObjectRow = "(?, ?, ?, ?, ?)";

uint64_t Fnv1a(std::string_view data, uint64_t h) {
  for (unsigned char c : data) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

uint64_t Mix(uint64_t x) {  // splitmix64 finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// NULL for an empty value (absent metadata).
Param OrNull(std::string_view v) {
  if (v.empty()) return std::monostate{};
  return v;
}

int64_t ToInt(const std::optional<std::string>& v) {
  int64_t out = 0;
  if (v) std::from_chars(v->data(), v->data() + v->size(), out);
  return out;
}

std::string Placeholders(size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += i ? ", ?" : "?";
  return s;
}

}  // namespace

std::string EventUuid(const Entry& entry) {
  std::string_view id = entry.Metadata(meta::kEventId);
  if (!id.empty()) return std::string(id);
  // Deterministic: the same entry re-delivered after a restart has the same
  // source and checkpoint position.
  std::string basis;
  basis.append(entry.LabelValue("source")).push_back('\0');
  if (!entry.checkpoint.key.empty() || !entry.checkpoint.value.empty()) {
    basis.append(entry.checkpoint.key).push_back('\0');
    basis.append(entry.checkpoint.value);
  } else {
    // No position at all: the event itself is its identity.
    basis.append(std::to_string(entry.timestamp_ns)).push_back('\0');
    basis.append(entry.line);
  }
  uint64_t a = Mix(Fnv1a(basis, 0xcbf29ce484222325ULL));
  uint64_t b = Mix(Fnv1a(basis, 0x84222325cbf29ce4ULL) ^ basis.size());
  char buf[40];
  std::snprintf(buf, sizeof buf, "fp-%016llx%016llx", static_cast<unsigned long long>(a),
                static_cast<unsigned long long>(b));
  return buf;
}

struct SqlStore::PreparedRow {
  std::string uuid;
  const Entry* entry = nullptr;
  std::string_view org, source, event_type, replay, change_type, transaction_key, commit_user,
      changed_fields;
  int64_t ts_ms = 0;
};

SqlStore::SqlStore(StoreOptions options, const Clock* clock)
    : options_(std::move(options)), clock_(clock) {}

SqlStore::~SqlStore() = default;

Status SqlStore::Open() {
  std::lock_guard<std::mutex> l(mu_);
  return Writer().status();
}

Status SqlStore::OpenExisting() {
  std::lock_guard<std::mutex> l(reader_mu_);
  ConnectOptions o = options_.connect;
  o.create = false;
  FP_ASSIGN_OR_RETURN(auto c, Connect(options_.dsn, o));
  FP_ASSIGN_OR_RETURN(int version, ReadSchemaVersion(*c));
  if (version == 0) {
    return Status::NotFound(options_.dsn.Redacted() +
                            ": no forcepipe event store here (run the sql sink first)");
  }
  if (version > kSchemaVersion) {
    return Status::FailedPrecondition(options_.dsn.Redacted() + ": schema version " +
                                      std::to_string(version) +
                                      " was written by a newer forcepipe; upgrade forcepipe");
  }
  reader_ = std::move(c);
  return Status::Ok();
}

Result<Connection*> SqlStore::Writer() {
  if (!writer_ || writer_->broken()) {
    writer_.reset();
    FP_ASSIGN_OR_RETURN(auto c, Connect(options_.dsn, options_.connect));
    if (!migrated_) {
      // First connection: create or migrate the schema (whichever of Open,
      // Load or Commit comes first).
      Status s = Migrate(*c, kSchemaVersion, clock_->NowUnixNanos() / 1'000'000);
      if (!s.ok()) return s.WithContext(options_.dsn.Redacted());
      migrated_ = true;
    }
    writer_ = std::move(c);
  }
  return writer_.get();
}

Status SqlStore::Begin(Connection* c) {
  // IMMEDIATE: take SQLite's write lock now, so the transaction never fails
  // half-way on a lock upgrade against the pruner.
  return c->Execute(c->backend() == Backend::kSqlite ? "BEGIN IMMEDIATE" : "BEGIN");
}

void SqlStore::Rollback(Connection* c) { (void)c->Execute("ROLLBACK"); }

Status SqlStore::InsertRows(Connection* c, const std::vector<PreparedRow>& rows, size_t lo,
                            size_t hi, uint64_t& inserted, uint64_t& objects) {
  const int64_t now_ms = clock_->NowUnixNanos() / 1'000'000;
  const Backend b = c->backend();
  auto event_params = [&](const PreparedRow& r, std::vector<Param>& p) {
    p.push_back(std::string_view(r.uuid));
    p.push_back(OrNull(r.org));
    p.push_back(OrNull(r.source));
    p.push_back(r.event_type);
    p.push_back(r.ts_ms);
    p.push_back(OrNull(r.replay));
    p.push_back(OrNull(r.change_type));
    p.push_back(OrNull(r.transaction_key));
    p.push_back(OrNull(r.commit_user));
    p.push_back(std::string_view(r.entry->line));
    p.push_back(OrNull(r.changed_fields));
    p.push_back(now_ms);
  };
  std::vector<Param> params;
  if (b == Backend::kSqlite) {
    // In-process: one cached prepared statement per row is the fast path.
    static const std::string kEventSql = "INSERT INTO events " + std::string(kEventColumns) +
                                         " VALUES " + std::string(kEventRow) +
                                         " ON CONFLICT DO NOTHING";
    static const std::string kObjectSql = "INSERT INTO event_objects " +
                                          std::string(kObjectColumns) + " VALUES " +
                                          std::string(kObjectRow) + " ON CONFLICT DO NOTHING";
    for (size_t i = lo; i < hi; ++i) {
      const PreparedRow& r = rows[i];
      params.clear();
      event_params(r, params);
      int64_t n = 0;
      FP_RETURN_IF_ERROR(c->Execute(kEventSql, params, &n));
      inserted += n;
      for (const ObjectRef& o : r.entry->objects) {
        if (o.id.empty()) continue;
        Param op[] = {std::string_view(o.type), std::string_view(o.id), std::string_view(r.uuid),
                      r.event_type, r.ts_ms};
        FP_RETURN_IF_ERROR(c->Execute(kObjectSql, op, &n));
        objects += n;
      }
    }
    return Status::Ok();
  }
  // PostgreSQL / MariaDB: multi-row statements, one round trip per chunk.
  // (PostgreSQL with one array parameter per column + unnest() measured no
  // faster, so both share this path.)
  const std::string_view on_conflict = b == Backend::kPostgres
                                           ? " ON CONFLICT DO NOTHING"
                                           : " ON DUPLICATE KEY UPDATE event_uuid = event_uuid";
  const size_t chunk = static_cast<size_t>(std::max(1, options_.insert_chunk));
  std::string sql;
  for (size_t start = lo; start < hi; start += chunk) {
    const size_t end = std::min(hi, start + chunk);
    sql = "INSERT INTO events ";
    sql += kEventColumns;
    sql += " VALUES ";
    params.clear();
    for (size_t i = start; i < end; ++i) {
      if (i != start) sql += ", ";
      sql += kEventRow;
      event_params(rows[i], params);
    }
    sql += on_conflict;
    int64_t n = 0;
    FP_RETURN_IF_ERROR(c->Execute(sql, params, &n));
    inserted += n;
    // Objects of the same rows.
    sql = "INSERT INTO event_objects ";
    sql += kObjectColumns;
    sql += " VALUES ";
    params.clear();
    size_t count = 0;
    auto flush = [&]() -> Status {
      if (count == 0) return Status::Ok();
      sql += on_conflict;
      int64_t m = 0;
      FP_RETURN_IF_ERROR(c->Execute(sql, params, &m));
      objects += m;
      sql = "INSERT INTO event_objects ";
      sql += kObjectColumns;
      sql += " VALUES ";
      params.clear();
      count = 0;
      return Status::Ok();
    };
    for (size_t i = start; i < end; ++i) {
      const PreparedRow& r = rows[i];
      for (const ObjectRef& o : r.entry->objects) {
        if (o.id.empty()) continue;
        if (count) sql += ", ";
        sql += kObjectRow;
        params.push_back(std::string_view(o.type));
        params.push_back(std::string_view(o.id));
        params.push_back(std::string_view(r.uuid));
        params.push_back(r.event_type);
        params.push_back(r.ts_ms);
        if (++count >= chunk * 4) FP_RETURN_IF_ERROR(flush());
      }
    }
    FP_RETURN_IF_ERROR(flush());
  }
  return Status::Ok();
}

Status SqlStore::InsertRange(Connection* c, const std::vector<PreparedRow>& rows, size_t lo,
                             size_t hi, std::vector<Rejection>& rejected, uint64_t& inserted,
                             uint64_t& objects) {
  if (lo >= hi) return Status::Ok();
  FP_RETURN_IF_ERROR(c->Execute("SAVEPOINT fp_split"));
  uint64_t n = 0, m = 0;
  Status s = InsertRows(c, rows, lo, hi, n, m);
  if (s.ok()) {
    inserted += n;
    objects += m;
    return c->Execute("RELEASE SAVEPOINT fp_split");
  }
  if (s.code() != StatusCode::kInvalidArgument) return s;
  FP_RETURN_IF_ERROR(c->Execute("ROLLBACK TO SAVEPOINT fp_split"));
  FP_RETURN_IF_ERROR(c->Execute("RELEASE SAVEPOINT fp_split"));
  if (hi - lo == 1) {
    rejected.push_back(Rejection{lo, s.message()});
    return Status::Ok();
  }
  const size_t mid = lo + (hi - lo) / 2;
  FP_RETURN_IF_ERROR(InsertRange(c, rows, lo, mid, rejected, inserted, objects));
  return InsertRange(c, rows, mid, hi, rejected, inserted, objects);
}

Status SqlStore::UpsertCheckpoints(Connection* c, const CheckpointMap& values, uint64_t epoch,
                                   int64_t now_ms) {
  if (values.empty()) return Status::Ok();
  std::string sql = "INSERT INTO checkpoints (\"key\", value, updated_at, epoch) VALUES ";
  std::vector<Param> params;
  params.reserve(values.size() * 4);
  bool first = true;
  for (const auto& [k, v] : values) {
    sql += first ? "(?, ?, ?, ?)" : ", (?, ?, ?, ?)";
    first = false;
    params.push_back(std::string_view(k));
    params.push_back(std::string_view(v));
    params.push_back(now_ms);
    params.push_back(static_cast<int64_t>(epoch));
  }
  if (c->backend() == Backend::kMariaDb) {
    sql +=
        " ON DUPLICATE KEY UPDATE value = VALUES(value), updated_at = VALUES(updated_at), "
        "epoch = VALUES(epoch)";
  } else {
    sql +=
        " ON CONFLICT (\"key\") DO UPDATE SET value = excluded.value, updated_at = "
        "excluded.updated_at, epoch = excluded.epoch";
  }
  return c->Execute(sql, params);
}

Result<std::vector<Rejection>> SqlStore::WriteBatch(const Batch& batch) {
  std::vector<PreparedRow> rows(batch.entries.size());
  for (size_t i = 0; i < batch.entries.size(); ++i) {
    const Entry& e = batch.entries[i];
    PreparedRow& r = rows[i];
    r.entry = &e;
    r.uuid = EventUuid(e);
    r.org = e.LabelValue("sf_org_id");
    if (r.org.empty()) r.org = e.LabelValue("org");
    r.source = e.LabelValue("source");
    r.event_type = e.LabelValue("event_type");
    r.replay = e.Metadata(meta::kReplayId);
    if (r.replay.empty()) r.replay = e.checkpoint.value;
    r.change_type = e.Metadata(meta::kChangeType);
    r.transaction_key = e.Metadata(meta::kTransactionKey);
    r.commit_user = e.Metadata(meta::kCommitUser);
    r.changed_fields = e.Metadata(meta::kChangedFields);
    r.ts_ms = e.timestamp_ns / 1'000'000;
  }

  std::lock_guard<std::mutex> l(mu_);
  FP_ASSIGN_OR_RETURN(Connection * c, Writer());
  std::vector<Rejection> rejected;
  uint64_t inserted = 0, objects = 0;
  auto attempt = [&]() -> Status {
    FP_RETURN_IF_ERROR(Begin(c));
    // Fast path: the whole batch in as few statements as possible.
    Status s = InsertRows(c, rows, 0, rows.size(), inserted, objects);
    if (s.code() == StatusCode::kInvalidArgument) {
      // Some row was refused. Start over and bisect under savepoints to
      // isolate exactly the refused rows; the rest still commit together with
      // the checkpoints.
      Rollback(c);
      inserted = objects = 0;
      FP_RETURN_IF_ERROR(Begin(c));
      s = InsertRange(c, rows, 0, rows.size(), rejected, inserted, objects);
    }
    FP_RETURN_IF_ERROR(s);
    FP_RETURN_IF_ERROR(
        UpsertCheckpoints(c, batch.checkpoints, 0, clock_->NowUnixNanos() / 1'000'000));
    return c->Execute("COMMIT");
  };
  Status s = attempt();
  if (!s.ok()) {
    if (!c->broken()) Rollback(c);
    if (c->broken()) writer_.reset();
    return s;
  }
  counters_.events_inserted += inserted;
  counters_.objects_inserted += objects;
  counters_.events_duplicate += rows.size() - rejected.size() - inserted;
  counters_.rejected += rejected.size();
  return rejected;
}

Result<std::optional<std::string>> SqlStore::Load(std::string_view key) {
  std::lock_guard<std::mutex> l(mu_);
  FP_ASSIGN_OR_RETURN(Connection * c, Writer());
  Param p[] = {key};
  auto rows = c->Query("SELECT value FROM checkpoints WHERE \"key\" = ?", p);
  if (!rows.ok()) {
    if (c->broken()) writer_.reset();
    return rows.status();
  }
  if (rows->empty()) return std::optional<std::string>();
  return std::optional<std::string>((*rows)[0][0].value_or(""));
}

Result<CheckpointMap> SqlStore::LoadAll() {
  std::lock_guard<std::mutex> l(mu_);
  FP_ASSIGN_OR_RETURN(Connection * c, Writer());
  auto rows = c->Query("SELECT \"key\", value FROM checkpoints");
  if (!rows.ok()) {
    if (c->broken()) writer_.reset();
    return rows.status();
  }
  CheckpointMap out;
  for (auto& r : *rows) out[r[0].value_or("")] = r[1].value_or("");
  return out;
}

Status SqlStore::Commit(const CommitRequest& request) {
  // Shape (same rules as the other stores).
  for (const auto& [k, v] : request.set) {
    if (k.empty()) return Status::InvalidArgument("checkpoint commit: empty key");
  }
  for (const auto& k : request.erase) {
    if (k.empty()) return Status::InvalidArgument("checkpoint commit: empty key");
    if (request.set.count(k)) {
      return Status::InvalidArgument("checkpoint commit: key both set and erased: " + k);
    }
  }
  std::lock_guard<std::mutex> l(mu_);
  FP_ASSIGN_OR_RETURN(Connection * c, Writer());
  const std::string store = "sql checkpoint store " + options_.dsn.Redacted();
  auto run = [&]() -> Status {
    FP_RETURN_IF_ERROR(Begin(c));
    // The epoch row is the commit lock: every Commit serialises on it, so the
    // fencing and compare-and-swap checks see a stable state.
    std::string lock = "SELECT epoch FROM checkpoint_epoch WHERE id = 1";
    if (c->backend() != Backend::kSqlite) lock += " FOR UPDATE";
    FP_ASSIGN_OR_RETURN(auto erows, c->Query(lock));
    const uint64_t max_epoch = erows.empty() ? 0 : static_cast<uint64_t>(ToInt(erows[0][0]));
    // Epoch 0 is unfenced only while no commit has carried an epoch.
    if (request.epoch < max_epoch) {
      return Status::Fenced(store + ": commit epoch " + std::to_string(request.epoch) +
                            " is older than accepted epoch " + std::to_string(max_epoch));
    }
    for (const auto& [k, want] : request.expect) {
      Param p[] = {std::string_view(k)};
      FP_ASSIGN_OR_RETURN(auto rows,
                          c->Query("SELECT value FROM checkpoints WHERE \"key\" = ?", p));
      std::optional<std::string> have;
      if (!rows.empty()) have = rows[0][0].value_or("");
      if (have != want) {
        return Status::Conflict(store + ": key " + k + " holds " +
                                (have ? "\"" + *have + "\"" : "nothing") + ", expected " +
                                (want ? "\"" + *want + "\"" : "nothing"));
      }
    }
    for (const auto& k : request.erase) {
      Param p[] = {std::string_view(k)};
      FP_RETURN_IF_ERROR(c->Execute("DELETE FROM checkpoints WHERE \"key\" = ?", p));
    }
    FP_RETURN_IF_ERROR(
        UpsertCheckpoints(c, request.set, request.epoch, clock_->NowUnixNanos() / 1'000'000));
    if (request.epoch > max_epoch) {
      Param p[] = {static_cast<int64_t>(request.epoch)};
      FP_RETURN_IF_ERROR(c->Execute("UPDATE checkpoint_epoch SET epoch = ? WHERE id = 1", p));
    }
    return c->Execute("COMMIT");
  };
  Status s = run();
  if (!s.ok()) {
    if (!c->broken()) Rollback(c);
    if (c->broken()) writer_.reset();
  }
  return s;
}

Status SqlStore::PruneStatement(Connection* c, const std::string& sql,
                                std::span<const Param> params, int64_t& affected) {
  affected = 0;
  return c->Execute(sql, params, &affected);
}

Result<uint64_t> SqlStore::PruneOnce(const std::atomic<bool>* stop) {
  if (options_.retention.empty() && options_.object_retention.empty()) return uint64_t{0};
  std::lock_guard<std::mutex> l(prune_mu_);
  if (!pruner_ || pruner_->broken()) {
    pruner_.reset();
    FP_ASSIGN_OR_RETURN(pruner_, Connect(options_.dsn, options_.connect));
  }
  Connection* c = pruner_.get();
  const Backend b = c->backend();
  const int64_t now_ms = clock_->NowUnixNanos() / 1'000'000;
  const int64_t limit = std::max(1, options_.prune_batch);

  // Builds one bounded DELETE on `table` for the oldest rows matching `cond`.
  // ORDER BY ts_ms makes every planner walk the (…, ts_ms) index in order and
  // stop after `limit` rows (README.md shows the plans).
  auto bounded_delete = [&](std::string_view table, const std::string& cond) {
    const std::string t(table);
    const std::string tail = " ORDER BY ts_ms LIMIT " + std::to_string(limit);
    switch (b) {
      case Backend::kSqlite:
        return "DELETE FROM " + t + " WHERE rowid IN (SELECT rowid FROM " + t + " WHERE " + cond +
               tail + ")";
      case Backend::kPostgres:
        return "DELETE FROM " + t + " WHERE ctid = ANY(ARRAY(SELECT ctid FROM " + t + " WHERE " +
               cond + tail + "))";
      case Backend::kMariaDb:
        break;
    }
    return "DELETE FROM " + t + " WHERE " + cond + tail;
  };
  auto loop = [&](const std::string& sql, const std::vector<Param>& params,
                  std::atomic<uint64_t>& counter, uint64_t& total) -> Status {
    while (!(stop && stop->load())) {
      int64_t n = 0;
      Status s = PruneStatement(c, sql, params, n);
      if (!s.ok()) {
        if (c->broken()) pruner_.reset();
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
  for (const auto& [t, d] : options_.retention) {
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
      if (c->broken()) pruner_.reset();
      return types.status();
    }
    for (const auto& r : *types) rules.emplace(r[0].value_or(""), *star);  // listed types win
  }
  uint64_t objects_total = 0, events_total = 0;

  // 1. event_objects rows by object type (overrides).
  for (const auto& [otype, age] : options_.object_retention) {
    std::vector<Param> p = {std::string_view(otype), now_ms - ms(age)};
    FP_RETURN_IF_ERROR(loop(bounded_delete("event_objects", "object_type = ? AND ts_ms < ?"), p,
                            counters_.objects_pruned, objects_total));
  }
  // 2. event_objects rows by their event's type, except overridden object types.
  std::string not_overridden;
  if (!options_.object_retention.empty()) {
    not_overridden =
        " AND object_type NOT IN (" + Placeholders(options_.object_retention.size()) + ")";
  }
  for (const auto& [etype, age] : rules) {
    std::vector<Param> p = {std::string_view(etype), now_ms - ms(age)};
    for (const auto& [otype, _] : options_.object_retention) p.push_back(std::string_view(otype));
    FP_RETURN_IF_ERROR(
        loop(bounded_delete("event_objects", "event_type = ? AND ts_ms < ?" + not_overridden), p,
             counters_.objects_pruned, objects_total));
  }
  // 3. events past their type's age that no event_objects row references.
  // (PostgreSQL: OFFSET 0 keeps NOT EXISTS a per-row index probe instead of a
  // hash anti-join over all of event_objects.)
  const std::string unreferenced =
      std::string(
          " AND NOT EXISTS (SELECT 1 FROM event_objects o WHERE o.event_uuid = "
          "events.event_uuid") +
      (b == Backend::kPostgres ? " OFFSET 0)" : ")");
  for (const auto& [etype, age] : rules) {
    std::vector<Param> p = {std::string_view(etype), now_ms - ms(age)};
    FP_RETURN_IF_ERROR(loop(bounded_delete("events", "event_type = ? AND ts_ms < ?" + unreferenced),
                            p, counters_.events_pruned, events_total));
  }
  counters_.prune_runs++;
  return events_total;
}

Result<std::vector<HistoryRow>> SqlStore::QueryHistory(const std::string& record_id, int limit,
                                                       const std::string& type) {
  if (limit <= 0) limit = 100;
  std::lock_guard<std::mutex> l(reader_mu_);
  if (!reader_ || reader_->broken()) {
    reader_.reset();
    // Never create: a reader racing the writer's first open must not make the
    // database (or race its schema and WAL setup); it waits for the writer.
    ConnectOptions o = options_.connect;
    o.create = false;
    FP_ASSIGN_OR_RETURN(reader_, Connect(options_.dsn, o));
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
  auto rows = reader_->Query(sql, p);
  if (!rows.ok()) {
    if (reader_->broken()) reader_.reset();
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
