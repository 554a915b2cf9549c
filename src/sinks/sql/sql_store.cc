#include "sinks/sql/sql_store.h"

#include <simdjson.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstdio>
#include <set>

#include "sinks/sql/dialect.h"
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

// The 12 values of one `events` row (kEventColumns order), for the INSERT,
// bulk and COPY paths. `Row` is SqlStore::PreparedRow (private, so deduced).
template <typename Row>
void AppendEventParams(const Row& r, int64_t now_ms, std::vector<Param>* out) {
  out->push_back(std::string_view(r.uuid));
  out->push_back(OrNull(r.org));
  out->push_back(OrNull(r.source));
  out->push_back(r.event_type);
  out->push_back(r.ts_ms);
  out->push_back(OrNull(r.replay));
  out->push_back(OrNull(r.change_type));
  out->push_back(OrNull(r.transaction_key));
  out->push_back(OrNull(r.commit_user));
  out->push_back(std::string_view(r.entry->line));
  out->push_back(OrNull(r.changed_fields));
  out->push_back(now_ms);
}

int64_t ToInt(const std::optional<std::string>& v) {
  int64_t out = 0;
  if (v) std::from_chars(v->data(), v->data() + v->size(), out);
  return out;
}

// MariaDB statements carry their values inline (text protocol): keep each
// under this many bytes of values, so that even fully escaped (2x) it stays
// well inside the server's default max_allowed_packet (16 MiB).
constexpr size_t kMariaDbStatementBytes = 4 << 20;

// After a COPY fails (a re-delivered or refused row), this many batches are
// written with INSERTs before COPY is tried again.
constexpr int kCopyCooldownBatches = 8;

// "" when `text` is one valid JSON document (RFC 8259, UTF-8), else why not.
std::string InvalidJson(std::string_view text) {
  thread_local simdjson::dom::parser parser;
  simdjson::error_code err = parser.parse(text.data(), text.size()).error();
  if (err == simdjson::SUCCESS) return "";
  return simdjson::error_message(err);
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
  size_t index = 0;  // in Batch::entries
  std::string uuid;
  const Entry* entry = nullptr;
  std::string_view org, source, event_type, replay, change_type, transaction_key, commit_user,
      changed_fields;
  int64_t ts_ms = 0;
};

SqlStore::SqlStore(StoreOptions options, const Clock* clock)
    : options_(std::move(options)),
      clock_(clock),
      pruner_(&options_, clock_, &counters_),
      reader_(&options_) {}

SqlStore::~SqlStore() = default;

Status SqlStore::Open() {
  std::lock_guard<std::mutex> l(mu_);
  return Writer().status();
}

Status SqlStore::OpenExisting() { return reader_.OpenExisting(); }

Status SqlStore::QuickCheck(Connection& c) {
  auto rows = c.Query("PRAGMA quick_check");
  if (!rows.ok()) {
    if (rows.status().code() != StatusCode::kCorruption) {
      return rows.status().WithContext(options_.dsn.Redacted());
    }
    return Status::Corruption(options_.dsn.Redacted() +
                              " is corrupt (quick_check: " + rows.status().message() +
                              "); refusing to write into it: restore it from a backup, or move "
                              "it away to start over");
  }
  std::string problems;
  for (const auto& r : *rows) {
    std::string line = r.empty() ? "" : r[0].value_or("");
    if (line != "ok") problems += (problems.empty() ? "" : "; ") + line;
  }
  if (problems.empty()) return Status::Ok();
  return Status::Corruption(options_.dsn.Redacted() +
                            " is corrupt (quick_check: " + problems.substr(0, 500) +
                            "); refusing to write into it: restore it from a backup, or move it "
                            "away to start over");
}

Status SqlStore::VerifyTables(Connection& c) {
  for (const char* table : {"events", "event_objects", "checkpoints", "checkpoint_epoch"}) {
    auto probe = c.Query(std::string("SELECT 1 FROM ") + table + " WHERE 1 = 0");
    if (probe.ok()) continue;
    if (probe.status().code() == StatusCode::kUnavailable) return probe.status();
    return Status::Corruption(options_.dsn.Redacted() +
                              ": the schema version is recorded but table " + table +
                              " is missing or unreadable (" + probe.status().message() +
                              "); refusing to run on a damaged event store (a recreated "
                              "checkpoints table would restart every stream): restore it from a "
                              "backup, or point the sink at a new database");
  }
  return Status::Ok();
}

Result<Connection*> SqlStore::Writer() {
  if (!writer_ || writer_->broken()) {
    writer_.reset();
    FP_ASSIGN_OR_RETURN(auto c, Connect(options_.dsn, options_.connect));
    if (!migrated_) {
      // First connection: check, then create or migrate the schema (whichever
      // of Open, Load or Commit comes first).
      if (Dialect::For(c->backend()).has_quick_check()) FP_RETURN_IF_ERROR(QuickCheck(*c));
      Status s = Migrate(*c, kSchemaVersion, clock_->NowUnixNanos() / 1'000'000);
      if (!s.ok()) return s.WithContext(options_.dsn.Redacted());
      FP_RETURN_IF_ERROR(VerifyTables(*c));
      migrated_ = true;
    }
    writer_ = std::move(c);
  }
  return writer_.get();
}

Status SqlStore::Begin(Connection* c) {
  // SQLite: IMMEDIATE, so the transaction never fails half-way on a lock
  // upgrade against the pruner.
  return c->Execute(Dialect::For(c->backend()).begin_write());
}

void SqlStore::Rollback(Connection* c) { (void)c->Execute("ROLLBACK"); }

Status SqlStore::InsertRows(Connection* c, const std::vector<PreparedRow>& rows, size_t lo,
                            size_t hi, uint64_t& inserted, uint64_t& objects) {
  const int64_t now_ms = clock_->NowUnixNanos() / 1'000'000;
  const Dialect& d = Dialect::For(c->backend());
  const std::string_view on_conflict = d.insert_ignore();
  // MariaDB: one prepared single-row statement executed for many rows at
  // once (array binding) instead of multi-row SQL text.
  const bool bulk = c->can_bulk() && options_.use_bulk;
  // Rows per statement: insert_chunk, within the backend's parameter limit.
  auto rows_per_statement = [&](size_t columns) {
    return std::max<size_t>(1, std::min(static_cast<size_t>(std::max(1, options_.insert_chunk)),
                                        c->max_params() / columns));
  };
  // The statements' shapes (rows per statement) for `n` rows, at most
  // `chunk` each. SQLite and PostgreSQL cache / prepare statements by text:
  // full chunks, then the remainder as powers of two, so batches of any size
  // use a handful of statement texts. MariaDB (bulk execution of one
  // single-row statement, or multi-row text) fills each up to
  // kMariaDbStatementBytes of values, whatever the count.
  auto shapes = [&](size_t n, size_t chunk, auto&& row_bytes) {
    std::vector<size_t> out;
    if (d.statements_bounded_by_bytes()) {
      for (size_t i = 0; i < n;) {
        size_t count = 0, bytes = 0;
        while (i + count < n && count < chunk) {
          const size_t rb = row_bytes(i + count);
          if (count > 0 && bytes + rb > kMariaDbStatementBytes) break;
          bytes += rb;
          ++count;
        }
        out.push_back(count);
        i += count;
      }
      return out;
    }
    for (; n >= chunk; n -= chunk) out.push_back(chunk);
    for (size_t p = n ? std::bit_floor(n) : 0; p > 0; p >>= 1) {
      if (n & p) out.push_back(p);
    }
    return out;
  };
  std::string sql;
  std::vector<Param> params;
  auto statement = [&](std::string_view table, std::string_view columns, std::string_view row,
                       size_t count) -> const std::string& {
    sql.clear();
    sql.reserve(table.size() + columns.size() + 24 + count * (row.size() + 2) + on_conflict.size());
    sql += "INSERT INTO ";
    sql += table;
    sql += ' ';
    sql += columns;
    sql += " VALUES ";
    for (size_t i = 0; i < count; ++i) {
      if (i) sql += ", ";
      sql += row;
    }
    sql += on_conflict;
    return sql;
  };

  // events
  size_t next = lo;
  auto event_bytes = [&](size_t i) {
    const PreparedRow& r = rows[lo + i];
    return r.entry->line.size() + r.uuid.size() + r.changed_fields.size() + 256;
  };
  for (size_t count : shapes(hi - lo, rows_per_statement(12), event_bytes)) {
    params.clear();
    params.reserve(count * 12);
    for (size_t i = next; i < next + count; ++i) {
      AppendEventParams(rows[i], now_ms, &params);
    }
    next += count;
    int64_t n = 0;
    FP_RETURN_IF_ERROR(
        bulk ? c->ExecuteBulk(statement("events", kEventColumns, kEventRow, 1), 12, params, &n)
             : c->Execute(statement("events", kEventColumns, kEventRow, count), params, &n));
    inserted += static_cast<uint64_t>(n);
  }

  // event_objects of the same rows
  struct ObjectRow {
    const ObjectRef* object;
    const PreparedRow* row;
  };
  std::vector<ObjectRow> links;
  links.reserve(hi - lo);
  for (size_t i = lo; i < hi; ++i) {
    for (const ObjectRef& o : rows[i].entry->objects) {
      if (!o.id.empty()) links.push_back({&o, &rows[i]});
    }
  }
  next = 0;
  auto link_bytes = [&](size_t i) {
    return links[i].object->type.size() + links[i].object->id.size() + links[i].row->uuid.size() +
           links[i].row->event_type.size() + 64;
  };
  for (size_t count : shapes(links.size(), rows_per_statement(5), link_bytes)) {
    params.clear();
    params.reserve(count * 5);
    for (size_t i = next; i < next + count; ++i) {
      const ObjectRow& l = links[i];
      params.push_back(std::string_view(l.object->type));
      params.push_back(std::string_view(l.object->id));
      params.push_back(std::string_view(l.row->uuid));
      params.push_back(l.row->event_type);
      params.push_back(l.row->ts_ms);
    }
    next += count;
    int64_t n = 0;
    FP_RETURN_IF_ERROR(
        bulk ? c->ExecuteBulk(statement("event_objects", kObjectColumns, kObjectRow, 1), 5, params,
                              &n)
             : c->Execute(statement("event_objects", kObjectColumns, kObjectRow, count), params,
                          &n));
    objects += static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

Status SqlStore::CopyRows(Connection* c, const std::vector<PreparedRow>& rows, uint64_t& inserted,
                          uint64_t& objects) {
  const int64_t now_ms = clock_->NowUnixNanos() / 1'000'000;
  std::vector<Param> values;
  values.reserve(rows.size() * 12);
  size_t links = 0;
  for (const PreparedRow& r : rows) {
    AppendEventParams(r, now_ms, &values);
    links += r.entry->objects.size();
  }
  int64_t n = 0;
  FP_RETURN_IF_ERROR(c->CopyIn("events " + std::string(kEventColumns), 12, values, &n));
  inserted += static_cast<uint64_t>(n);
  values.clear();
  values.reserve(links * 5);
  for (const PreparedRow& r : rows) {
    for (const ObjectRef& o : r.entry->objects) {
      if (o.id.empty()) continue;
      values.push_back(std::string_view(o.type));
      values.push_back(std::string_view(o.id));
      values.push_back(std::string_view(r.uuid));
      values.push_back(r.event_type);
      values.push_back(r.ts_ms);
    }
  }
  if (values.empty()) return Status::Ok();
  FP_RETURN_IF_ERROR(c->CopyIn("event_objects " + std::string(kObjectColumns), 5, values, &n));
  objects += static_cast<uint64_t>(n);
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
    rejected.push_back(Rejection{rows[lo].index, s.message()});
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
  sql += Dialect::For(c->backend()).upsert_checkpoint();
  return c->Execute(sql, params);
}

Result<std::vector<Rejection>> SqlStore::WriteBatch(const Batch& batch) {
  // SQLite stores JSON as TEXT with no CHECK (schema v2): validate here, so an
  // entry that is not JSON is refused exactly as PostgreSQL (JSONB) and
  // MariaDB (JSON_VALID) refuse it, without a parse inside the transaction.
  const bool validate_json = Dialect::For(options_.dsn.backend).validates_json_in_client();
  std::vector<Rejection> invalid;
  std::vector<PreparedRow> rows;
  rows.reserve(batch.entries.size());
  for (size_t i = 0; i < batch.entries.size(); ++i) {
    const Entry& e = batch.entries[i];
    PreparedRow r;
    r.index = i;
    r.entry = &e;
    r.changed_fields = e.Metadata(meta::kChangedFields);
    if (validate_json) {
      std::string why = InvalidJson(e.line);
      if (why.empty() && !r.changed_fields.empty()) {
        why = InvalidJson(r.changed_fields);
        if (!why.empty()) why = "sqlite: changed_fields is not valid JSON: " + why;
      } else if (!why.empty()) {
        why = "sqlite: payload is not valid JSON: " + why;
      }
      if (!why.empty()) {
        invalid.push_back(Rejection{i, std::move(why)});
        continue;
      }
    }
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
    r.ts_ms = e.timestamp_ns / 1'000'000;
    rows.push_back(std::move(r));
  }

  std::lock_guard<std::mutex> l(mu_);
  FP_ASSIGN_OR_RETURN(Connection * c, Writer());
  std::vector<Rejection> rejected;
  uint64_t inserted = 0, objects = 0, fallbacks = 0;
  bool copied = false;
  auto attempt = [&]() -> Status {
    FP_RETURN_IF_ERROR(Begin(c));
    // Fast path: the whole batch in as few statements as possible — on
    // PostgreSQL one COPY per table, which has no ON CONFLICT: any refused or
    // already stored row fails it, and the batch is redone with the
    // idempotent INSERTs (then for a while, in case re-deliveries continue).
    const bool copy = options_.use_copy && c->can_copy() && !rows.empty() && copy_cooldown_ == 0;
    if (copy_cooldown_ > 0) --copy_cooldown_;
    Status s = copy ? CopyRows(c, rows, inserted, objects)
                    : InsertRows(c, rows, 0, rows.size(), inserted, objects);
    copied = copy && s.ok();
    if (copy && s.code() == StatusCode::kInvalidArgument) {
      ++fallbacks;
      copy_cooldown_ = kCopyCooldownBatches;
      Rollback(c);
      inserted = objects = 0;
      FP_RETURN_IF_ERROR(Begin(c));
      // The whole batch with INSERTs first; bisects only if that fails too.
      s = InsertRange(c, rows, 0, rows.size(), rejected, inserted, objects);
    } else if (s.code() == StatusCode::kInvalidArgument) {
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
  if (copied) counters_.batches_copied++;
  counters_.copy_fallbacks += fallbacks;
  counters_.events_duplicate += rows.size() - rejected.size() - inserted;
  if (!invalid.empty()) {
    rejected.insert(rejected.end(), std::make_move_iterator(invalid.begin()),
                    std::make_move_iterator(invalid.end()));
    std::sort(rejected.begin(), rejected.end(),
              [](const Rejection& a, const Rejection& b) { return a.index < b.index; });
  }
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
    lock += Dialect::For(c->backend()).lock_rows();
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

Result<uint64_t> SqlStore::PruneOnce(const std::atomic<bool>* stop) {
  return pruner_.PruneOnce(stop);
}

Result<std::vector<HistoryRow>> SqlStore::QueryHistory(const std::string& record_id, int limit,
                                                       const std::string& type) {
  return reader_.QueryHistory(record_id, limit, type);
}

}  // namespace forcepipe::sql
