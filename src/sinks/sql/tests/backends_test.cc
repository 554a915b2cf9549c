// The event store's behaviour, run against every backend: SQLite (in-process),
// and the real PostgreSQL and MariaDB servers the ctest fixtures started.
// Built twice: sql_backends_test (all three, integration) and, with
// FP_SQL_SQLITE_ONLY, as part of sql_unit_test (SQLite only, runs under ASan).

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "core/clock.h"
#include "sinks/sql/history.h"
#include "sinks/sql/schema.h"
#include "sinks/sql/sql_sink.h"
#include "sinks/sql/sql_store.h"
#include "sinks/sql/tests/test_util.h"

namespace forcepipe::sql {
namespace {

using testing::CountRows;
using testing::EntrySpec;
using testing::MakeEntry;
using testing::TestDatabase;

constexpr int64_t kDayMs = 24LL * 3600 * 1000;

class SqlBackendTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    db_ = std::make_unique<TestDatabase>(GetParam());
    // Fail, not skip: a missing server is a broken harness.
    ASSERT_TRUE(db_->error.empty()) << db_->error;
  }

  SqlSinkOptions Options() {
    SqlSinkOptions o;
    o.store.dsn = db_->dsn();
    o.store.insert_chunk = 7;  // several statements per batch, to exercise chunking
    o.prune_interval = std::chrono::hours(1);
    return o;
  }

  std::unique_ptr<SqlSink> StartSink(SqlSinkOptions o) {
    auto sink = std::make_unique<SqlSink>(std::move(o), &clock_);
    Status s = sink->Start();
    EXPECT_TRUE(s.ok()) << s.ToString();
    return sink;
  }

  Batch MakeBatch(int first, int n, const std::string& prefix = "ev") {
    Batch b;
    for (int i = first; i < first + n; ++i) {
      EntrySpec s;
      s.id = prefix + "-" + std::to_string(i);
      s.ts_ms = 1'700'000'000'000 + i;
      s.objects = {{"Account", "001A" + std::to_string(i)},
                   {"Contact", "003C" + std::to_string(i)}};
      s.changed_fields = R"(["Name"])";
      b.entries.push_back(MakeEntry(s));
      b.checkpoints[s.checkpoint_key] = s.id;
    }
    return b;
  }

  ManualClock clock_{1'700'000'000'000'000'000};
  std::unique_ptr<TestDatabase> db_;
};

TEST_P(SqlBackendTest, RedeliveryWritesNothingTwice) {
  auto sink = StartSink(Options());
  Batch b = MakeBatch(0, 40);
  // Entries without an event_id get a deterministic id from the position.
  for (int i = 0; i < 3; ++i) {
    EntrySpec s;
    s.checkpoint_value = "pos-" + std::to_string(i);
    s.objects = {{"Lead", "00Q" + std::to_string(i)}};
    b.entries.push_back(MakeEntry(s));
  }
  ASSERT_EQ(sink->Push(b).kind, PushOutcome::Kind::kOk);
  EXPECT_EQ(CountRows(db_->dsn(), "events"), 43);
  EXPECT_EQ(CountRows(db_->dsn(), "event_objects"), 83);
  EXPECT_EQ(sink->counters().events_inserted.load(), 43u);

  // The same batch again (a crash between commit and ack), then an
  // overlapping one.
  ASSERT_EQ(sink->Push(b).kind, PushOutcome::Kind::kOk);
  ASSERT_EQ(sink->Push(MakeBatch(20, 40)).kind, PushOutcome::Kind::kOk);
  EXPECT_EQ(CountRows(db_->dsn(), "events"), 63);
  EXPECT_EQ(CountRows(db_->dsn(), "event_objects"), 123);
  EXPECT_EQ(sink->counters().events_inserted.load(), 63u);
  EXPECT_EQ(sink->counters().events_duplicate.load(), 43u + 20u);
  auto cp = sink->checkpoint_store()->Load("pubsub:acme:/data/AccountChangeEvent");
  ASSERT_TRUE(cp.ok());
  EXPECT_EQ(cp->value_or(""), "ev-59");

  // A new sink (restart) against the same database sees the same rows.
  sink->Stop();
  auto again = StartSink(Options());
  ASSERT_EQ(again->Push(b).kind, PushOutcome::Kind::kOk);
  EXPECT_EQ(CountRows(db_->dsn(), "events"), 63);
  EXPECT_EQ(again->counters().events_inserted.load(), 0u);
}

TEST_P(SqlBackendTest, BadRowsAreIsolatedAndTheRestCommit) {
  auto sink = StartSink(Options());
  Batch b = MakeBatch(0, 12);
  // Invalid JSON payload: refused by the store's own validation (SQLite, schema
  // v2), JSONB (PostgreSQL) and JSON_VALID (MariaDB).
  b.entries[3].line = "{\"id\": not json";
  // A second, backend-specific bad value.
  std::string expect_second;
  if (GetParam() == "mariadb") {
    // Over-long: commit_user is VARCHAR(64) and the session is strict.
    for (auto& m : b.entries[9].structured_metadata) {
      if (m.name == "commit_user") m.value = std::string(100, 'u');
    }
    expect_second = "too long";
  } else if (GetParam() == "postgresql") {
    // PostgreSQL text cannot hold NUL: refused, never truncated.
    for (auto& m : b.entries[9].structured_metadata) {
      if (m.name == "change_type") m.value = std::string("UP\0DATE", 7);
    }
    expect_second = "NUL byte";
  } else {
    // changed_fields must be a JSON document.
    for (auto& m : b.entries[9].structured_metadata) {
      if (m.name == "changed_fields") m.value = "[\"Name\"";
    }
    expect_second = "changed_fields is not valid JSON";
  }
  PushOutcome out = sink->Push(b);
  ASSERT_EQ(out.kind, PushOutcome::Kind::kPermanent) << out.reason;
  ASSERT_EQ(out.rejected.size(), 2u);
  EXPECT_EQ(out.rejected[0].index, 3u);
  EXPECT_EQ(out.rejected[1].index, 9u);
  EXPECT_NE(out.rejected[1].reason.find(expect_second), std::string::npos)
      << out.rejected[1].reason;
  EXPECT_FALSE(out.rejected[0].reason.empty());
  EXPECT_EQ(CountRows(db_->dsn(), "events"), 10);
  EXPECT_EQ(CountRows(db_->dsn(), "events", "event_uuid = 'ev-3'"), 0);
  EXPECT_EQ(CountRows(db_->dsn(), "events", "event_uuid = 'ev-9'"), 0);
  EXPECT_EQ(CountRows(db_->dsn(), "event_objects"), 20);
  EXPECT_EQ(CountRows(db_->dsn(), "event_objects", "event_uuid = 'ev-3'"), 0);
  EXPECT_EQ(sink->counters().rejected.load(), 2u);
  // The batch's checkpoint committed with the rest.
  auto cp = sink->checkpoint_store()->Load("pubsub:acme:/data/AccountChangeEvent");
  ASSERT_TRUE(cp.ok());
  EXPECT_EQ(cp->value_or(""), "ev-11");
}

// SQLite refuses almost nothing itself once JSON is validated client-side; a
// trigger stands in for any database-side refusal, so the bisecting under
// savepoints is exercised on SQLite too (and under ASan in sql_unit_test),
// together with a client-side refusal in the same batch.
TEST_P(SqlBackendTest, DatabaseRefusalIsIsolatedNextToInvalidJson) {
  if (GetParam() != "sqlite") GTEST_SKIP() << "trigger syntax is SQLite's";
  auto sink = StartSink(Options());
  {
    auto c = Connect(db_->dsn(), {});
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    ASSERT_TRUE((*c)->Execute("CREATE TRIGGER refuse_ev_13 BEFORE INSERT ON events WHEN "
                              "NEW.event_uuid = 'ev-13' BEGIN SELECT RAISE(ABORT, 'refused by "
                              "test trigger'); END")
                    .ok());
  }
  Batch b = MakeBatch(0, 20);
  b.entries[2].line = "[1, 2";
  PushOutcome out = sink->Push(b);
  ASSERT_EQ(out.kind, PushOutcome::Kind::kPermanent) << out.reason;
  ASSERT_EQ(out.rejected.size(), 2u);
  EXPECT_EQ(out.rejected[0].index, 2u);
  EXPECT_NE(out.rejected[0].reason.find("payload is not valid JSON"), std::string::npos)
      << out.rejected[0].reason;
  EXPECT_EQ(out.rejected[1].index, 13u);
  EXPECT_NE(out.rejected[1].reason.find("refused by test trigger"), std::string::npos)
      << out.rejected[1].reason;
  EXPECT_EQ(CountRows(db_->dsn(), "events"), 18);
  EXPECT_EQ(CountRows(db_->dsn(), "event_objects"), 36);
  EXPECT_EQ(CountRows(db_->dsn(), "events", "event_uuid IN ('ev-2', 'ev-13')"), 0);
  EXPECT_EQ(sink->counters().events_inserted.load(), 18u);
  EXPECT_EQ(sink->counters().rejected.load(), 2u);
  EXPECT_EQ(sink->counters().events_duplicate.load(), 0u);
}

TEST_P(SqlBackendTest, PruningKeepsEventVisibleFromObjectWithLongerRetention) {
  SqlSinkOptions o = Options();
  o.store.retention = {{"AccountChangeEvent", std::chrono::hours(24)}};
  o.store.object_retention = {{"Contact", std::chrono::hours(24 * 30)}};
  o.store.prune_batch = 2;  // several bounded rounds
  // Writes through the sink; pruning driven by hand on a store with the
  // retention rules (the sink's own thread would race the clock).
  auto sink = StartSink(Options());
  SqlStore pruner(o.store, &clock_);
  const int64_t now_ms = clock_.NowUnixNanos() / 1'000'000;
  Batch b;
  EntrySpec multi;
  multi.id = "multi";
  multi.ts_ms = now_ms;
  multi.objects = {{"Account", "001A"}, {"Opportunity", "006O"}, {"Contact", "003C"}};
  b.entries.push_back(MakeEntry(multi));
  for (int i = 0; i < 5; ++i) {  // single-object events that age out entirely
    EntrySpec s;
    s.id = "single-" + std::to_string(i);
    s.ts_ms = now_ms + i;
    s.objects = {{"Account", "001S" + std::to_string(i)}};
    b.entries.push_back(MakeEntry(s));
  }
  EntrySpec other;  // a type without a rule: kept forever
  other.id = "platform";
  other.event_type = "Order_Event__e";
  other.ts_ms = now_ms;
  other.objects = {{"Account", "001A"}};
  b.entries.push_back(MakeEntry(other));
  ASSERT_EQ(sink->Push(b).kind, PushOutcome::Kind::kOk);

  // Nothing is old enough yet.
  auto pruned = pruner.PruneOnce();
  ASSERT_TRUE(pruned.ok()) << pruned.status().ToString();
  EXPECT_EQ(*pruned, 0u);
  EXPECT_EQ(CountRows(db_->dsn(), "events"), 7);

  clock_.Advance(std::chrono::hours(48));
  pruned = pruner.PruneOnce();
  ASSERT_TRUE(pruned.ok()) << pruned.status().ToString();
  EXPECT_EQ(*pruned, 5u);  // the single-object events
  EXPECT_EQ(pruner.counters().events_pruned.load(), 5u);
  EXPECT_EQ(pruner.counters().objects_pruned.load(), 7u);  // 5 singles + Account + Opportunity
  // The multi-object event aged out on Account and Opportunity...
  auto h = sink->QueryHistory("001A", 10, "");
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  ASSERT_EQ(h->size(), 1u);
  EXPECT_EQ((*h)[0].event_uuid, "platform");
  h = sink->QueryHistory("006O", 10, "");
  ASSERT_TRUE(h.ok());
  EXPECT_TRUE(h->empty());
  // ...but stays visible from the Contact.
  h = sink->QueryHistory("003C", 10, "");
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 1u);
  EXPECT_EQ((*h)[0].event_uuid, "multi");
  EXPECT_EQ(CountRows(db_->dsn(), "events", "event_uuid = 'multi'"), 1);

  // Past the Contact's retention the event goes too; the rule-less type stays.
  clock_.Advance(std::chrono::hours(24 * 30));
  pruned = pruner.PruneOnce();
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(*pruned, 1u);
  h = sink->QueryHistory("003C", 10, "");
  ASSERT_TRUE(h.ok());
  EXPECT_TRUE(h->empty());
  EXPECT_EQ(CountRows(db_->dsn(), "events"), 1);
  EXPECT_EQ(CountRows(db_->dsn(), "events", "event_uuid = 'platform'"), 1);
}

TEST_P(SqlBackendTest, PruningAppliesListedTypesBeforeTheWildcard) {
  SqlSinkOptions o = Options();
  o.store.retention = {{"Short", std::chrono::hours(24)}, {"*", std::chrono::hours(24 * 10)}};
  auto sink = StartSink(Options());
  SqlStore pruner(o.store, &clock_);
  const int64_t now_ms = clock_.NowUnixNanos() / 1'000'000;
  Batch b;
  auto add = [&](const std::string& id, const std::string& type, int64_t age_days) {
    EntrySpec s;
    s.id = id;
    s.event_type = type;
    s.ts_ms = now_ms - age_days * kDayMs;
    s.objects = {{"Account", "001" + id}};
    b.entries.push_back(MakeEntry(s));
  };
  add("short-old", "Short", 2);
  add("short-new", "Short", 0);
  add("a-mid", "AType", 2);
  add("a-old", "AType", 11);
  add("z-old", "ZType", 12);
  add("z-mid", "ZType", 5);
  ASSERT_EQ(sink->Push(b).kind, PushOutcome::Kind::kOk);
  auto pruned = pruner.PruneOnce();
  ASSERT_TRUE(pruned.ok()) << pruned.status().ToString();
  EXPECT_EQ(*pruned, 3u);
  auto c = Connect(db_->dsn(), {});
  ASSERT_TRUE(c.ok());
  auto rows = (*c)->Query("SELECT event_uuid FROM events ORDER BY event_uuid");
  ASSERT_TRUE(rows.ok());
  std::vector<std::string> left;
  for (auto& r : *rows) left.push_back(r[0].value_or(""));
  EXPECT_EQ(left, (std::vector<std::string>{"a-mid", "short-new", "z-mid"}));
  EXPECT_EQ(CountRows(db_->dsn(), "event_objects"), 3);
}

TEST_P(SqlBackendTest, PruningThreadRunsOnStart) {
  SqlSinkOptions o = Options();
  o.store.retention = {{"*", std::chrono::hours(1)}};
  auto sink = std::make_unique<SqlSink>(o, &clock_);
  // Rows written before the sink starts, already old.
  {
    SqlStore store(o.store, &clock_);
    ASSERT_TRUE(store.Open().ok());
    Batch b = MakeBatch(0, 3);
    for (auto& e : b.entries) e.timestamp_ns -= 2 * kDayMs * 1'000'000;
    ASSERT_TRUE(store.WriteBatch(b).ok());
  }
  ASSERT_TRUE(sink->Start().ok());
  // Wait on the counter with a deadline (no fixed sleep).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (sink->counters().prune_runs.load() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // poll interval
  }
  ASSERT_GE(sink->counters().prune_runs.load(), 1u);
  EXPECT_EQ(sink->counters().events_pruned.load(), 3u);
  EXPECT_EQ(CountRows(db_->dsn(), "events"), 0);
  sink->Stop();
}

TEST_P(SqlBackendTest, HistoryReturnsRecordEventsNewestFirst) {
  auto sink = StartSink(Options());
  Batch b;
  const char* types[] = {"CREATE", "UPDATE", "UPDATE", "DELETE", "UNDELETE"};
  for (int i = 0; i < 5; ++i) {
    EntrySpec s;
    s.id = "h-" + std::to_string(i);
    s.ts_ms = 1'700'000'000'000 + 1000 * ((i * 3) % 5);  // out of order: 0,3,1,4,2
    s.change_type = types[i];
    s.objects = {{"Account", "001R"}};
    s.changed_fields = R"(["Name","BillingAddress.City"])";
    s.line = R"({"Name":"N)" + std::to_string(i) + R"(","BillingAddress":{"City":"C)" +
             std::to_string(i) + R"("}})";
    b.entries.push_back(MakeEntry(s));
  }
  EntrySpec unrelated;
  unrelated.id = "h-other";
  unrelated.objects = {{"Account", "001X"}};
  b.entries.push_back(MakeEntry(unrelated));
  ASSERT_EQ(sink->Push(b).kind, PushOutcome::Kind::kOk);

  auto h = sink->QueryHistory("001R", 10, "");
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  ASSERT_EQ(h->size(), 5u);
  std::vector<std::string> ids;
  for (const auto& r : *h) ids.push_back(r.event_uuid);
  // ts offsets: h-0:0, h-1:3, h-2:1, h-3:4, h-4:2 -> newest first.
  EXPECT_EQ(ids, (std::vector<std::string>{"h-3", "h-1", "h-4", "h-2", "h-0"}));
  EXPECT_EQ((*h)[0].change_type.value_or(""), "DELETE");
  EXPECT_EQ((*h)[0].commit_user.value_or(""), "005xx000001Sv6e");
  EXPECT_EQ((*h)[0].object_type, "Account");
  EXPECT_EQ((*h)[0].event_type, "AccountChangeEvent");
  EXPECT_EQ((*h)[0].ts_ms, 1'700'000'004'000);
  auto values = ChangedValues((*h)[0].payload, (*h)[0].changed_fields.value_or(""));
  ASSERT_EQ(values.size(), 2u);
  EXPECT_EQ(values[0], (std::pair<std::string, std::string>{"Name", "\"N3\""}));
  EXPECT_EQ(values[1], (std::pair<std::string, std::string>{"BillingAddress.City", "\"C3\""}));

  h = sink->QueryHistory("001R", 2, "");
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 2u);
  EXPECT_EQ((*h)[1].event_uuid, "h-1");

  h = sink->QueryHistory("001R", 10, "UPDATE");
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 2u);
  EXPECT_EQ((*h)[0].event_uuid, "h-1");
  EXPECT_EQ((*h)[1].event_uuid, "h-2");

  // The CLI path: a new store opened read-only on the same database.
  std::ostringstream out, err;
  StoreOptions so;
  so.dsn = db_->dsn();
  ASSERT_EQ(RunHistory(so, "001R", 1, "", false, out, err), 0) << err.str();
  EXPECT_NE(out.str().find("DELETE"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("Name = \"N3\""), std::string::npos) << out.str();
  EXPECT_EQ(out.str().find("h-1"), std::string::npos) << out.str();
}

TEST_P(SqlBackendTest, CheckpointStoreHonoursCasAndFencing) {
  auto sink = StartSink(Options());
  CheckpointStore* store = sink->checkpoint_store();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->kind(), "sql");
  ASSERT_TRUE(store->Commit(CheckpointMap{{"a", "1"}, {"b", "2"}}).ok());
  auto all = store->LoadAll();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, (CheckpointMap{{"a", "1"}, {"b", "2"}}));

  CommitRequest cas;
  cas.set = {{"a", "10"}};
  cas.expect = {{"a", "1"}, {"c", std::nullopt}};
  ASSERT_TRUE(store->Commit(cas).ok());
  EXPECT_EQ(store->Load("a")->value_or(""), "10");
  Status lost = store->Commit(cas);  // a no longer holds 1
  EXPECT_EQ(lost.code(), StatusCode::kConflict) << lost.ToString();
  EXPECT_EQ(store->Load("a")->value_or(""), "10");

  CommitRequest erase;
  erase.erase = {"b"};
  erase.expect = {{"b", "2"}};
  ASSERT_TRUE(store->Commit(erase).ok());
  EXPECT_FALSE(store->Load("b")->has_value());

  CommitRequest fenced;
  fenced.epoch = 5;
  fenced.set = {{"a", "11"}};
  ASSERT_TRUE(store->Commit(fenced).ok());
  fenced.epoch = 4;
  fenced.set = {{"a", "12"}};
  EXPECT_EQ(store->Commit(fenced).code(), StatusCode::kFenced);
  fenced.epoch = 0;  // unfenced writers are fenced once an epoch was accepted
  EXPECT_EQ(store->Commit(fenced).code(), StatusCode::kFenced);
  EXPECT_EQ(store->Load("a")->value_or(""), "11");
  fenced.epoch = 5;
  ASSERT_TRUE(store->Commit(fenced).ok());
  EXPECT_EQ(store->Load("a")->value_or(""), "12");

  CommitRequest bad;
  bad.set = {{"x", "1"}};
  bad.erase = {"x"};
  EXPECT_EQ(store->Commit(bad).code(), StatusCode::kInvalidArgument);
}

TEST_P(SqlBackendTest, EntrylessBatchWritesCheckpointsOnly) {
  auto sink = StartSink(Options());
  Batch b;
  b.checkpoints = {{"pubsub:acme:/data/X", "keepalive-7"}};
  ASSERT_EQ(sink->Push(b).kind, PushOutcome::Kind::kOk);
  EXPECT_EQ(sink->checkpoint_store()->Load("pubsub:acme:/data/X")->value_or(""), "keepalive-7");
  EXPECT_EQ(CountRows(db_->dsn(), "events"), 0);
}

TEST_P(SqlBackendTest, StoredColumnsComeFromEntryMetadata) {
  auto sink = StartSink(Options());
  Batch b;
  EntrySpec s;
  s.id = "cols";
  s.ts_ms = 1'700'000'123'456;
  s.changed_fields = R"(["Name"])";
  s.objects = {{"Account", "001Z"}};
  b.entries.push_back(MakeEntry(s));
  EntrySpec no_ct;
  no_ct.id = "noct";
  no_ct.change_type = "";
  b.entries.push_back(MakeEntry(no_ct));
  ASSERT_EQ(sink->Push(b).kind, PushOutcome::Kind::kOk);
  auto c = Connect(db_->dsn(), {});
  ASSERT_TRUE(c.ok());
  auto rows = (*c)->Query(
      "SELECT org, source, event_type, ts_ms, replay_position, change_type, transaction_key, "
      "commit_user FROM events WHERE event_uuid = 'cols'");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1u);
  const auto& r = (*rows)[0];
  EXPECT_EQ(r[0].value_or(""), "00Dxx0000001");
  EXPECT_EQ(r[1].value_or(""), "pubsub");
  EXPECT_EQ(r[2].value_or(""), "AccountChangeEvent");
  EXPECT_EQ(r[3].value_or(""), "1700000123456");
  EXPECT_EQ(r[4].value_or(""), "AAAAcols");
  EXPECT_EQ(r[5].value_or(""), "UPDATE");
  EXPECT_EQ(r[6].value_or(""), "tx-cols");
  EXPECT_EQ(r[7].value_or(""), "005xx000001Sv6e");
  EXPECT_EQ(CountRows(db_->dsn(), "events", "event_uuid = 'noct' AND change_type IS NULL"), 1);
}

// A batch wider than one statement may be: SQLite and PostgreSQL split it by
// their parameter limits (12 `?`s per event, 5 per link; PostgreSQL's is the
// protocol's 65535; Debian's SQLite allows 250000, so the test lowers it to
// upstream's default 32766 with sqlite3_limit, which SQLite then enforces),
// MariaDB by bytes (4 MiB of values per statement). The odd size exercises the
// power-of-two remainder statements. First with multi-row INSERT text only
// (no COPY, no MariaDB bulk execution), then with the defaults (PostgreSQL:
// COPY; MariaDB: bulk execution, also cut at 4 MiB); then everything again as
// re-delivery.
TEST_P(SqlBackendTest, BatchesWiderThanOneStatementAreSplit) {
  constexpr int kRows = 6007;
  SqlSinkOptions o = Options();
  o.store.insert_chunk = 1'000'000;  // only the backend's limits bound a statement
  o.store.use_copy = false;
  o.store.use_bulk = false;
  o.store.connect.max_params = 32766;  // PostgreSQL: its own 65535 is lower anyway
  auto sink = StartSink(o);
  auto make = [&](int first) {
    Batch b = MakeBatch(first, kRows, "wide");
    for (auto& e : b.entries) {
      e.line = R"({"Description":")" + std::string(1000, 'd') + "\"}";
      e.objects.push_back({"Opportunity", "006" + e.objects[0].id});
    }
    return b;
  };
  Batch b = make(0);
  {
    auto c = Connect(db_->dsn(), o.store.connect);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    if (GetParam() == "mariadb") {
      EXPECT_GT(static_cast<size_t>(kRows) * 1000, size_t{4} << 20);
      EXPECT_TRUE((*c)->can_bulk());  // the test server is a MariaDB
    } else {
      EXPECT_GT(static_cast<size_t>(kRows) * 12, (*c)->max_params());
      EXPECT_GT(static_cast<size_t>(kRows) * 3 * 5, (*c)->max_params());
    }
  }
  PushOutcome out = sink->Push(b);
  ASSERT_EQ(out.kind, PushOutcome::Kind::kOk) << out.reason;
  EXPECT_EQ(CountRows(db_->dsn(), "events"), kRows);
  EXPECT_EQ(CountRows(db_->dsn(), "event_objects"), 3 * kRows);
  EXPECT_EQ(sink->counters().events_inserted.load(), static_cast<uint64_t>(kRows));
  EXPECT_EQ(sink->counters().objects_inserted.load(), static_cast<uint64_t>(3 * kRows));
  EXPECT_EQ(sink->counters().batches_copied.load(), 0u);
  sink->Stop();

  // Default options: PostgreSQL writes the next batch with COPY.
  auto copying = StartSink(Options());
  out = copying->Push(make(kRows));
  ASSERT_EQ(out.kind, PushOutcome::Kind::kOk) << out.reason;
  EXPECT_EQ(CountRows(db_->dsn(), "events"), 2 * kRows);
  EXPECT_EQ(CountRows(db_->dsn(), "event_objects"), 6 * kRows);
  EXPECT_EQ(copying->counters().batches_copied.load(), GetParam() == "postgresql" ? 1u : 0u);

  // Both again: nothing new.
  ASSERT_EQ(copying->Push(b).kind, PushOutcome::Kind::kOk);
  ASSERT_EQ(copying->Push(make(kRows)).kind, PushOutcome::Kind::kOk);
  EXPECT_EQ(CountRows(db_->dsn(), "events"), 2 * kRows);
  EXPECT_EQ(CountRows(db_->dsn(), "event_objects"), 6 * kRows);
  EXPECT_EQ(copying->counters().events_duplicate.load(), static_cast<uint64_t>(2 * kRows));
}

// PostgreSQL's fast path is COPY, which has no ON CONFLICT: a re-delivered or
// refused row fails it, the batch is redone with the idempotent INSERTs, and
// INSERTs are used for the next 8 batches. Values with COPY's special
// characters (tab, newline, CR, backslash) arrive byte for byte.
TEST_P(SqlBackendTest, CopyFallsBackToInsertsOnRedeliveryAndRefusal) {
  if (GetParam() != "postgresql") GTEST_SKIP() << "COPY is PostgreSQL's";
  auto sink = StartSink(Options());
  const StoreCounters& n = sink->counters();
  Batch first = MakeBatch(0, 10);
  const std::string special = "tab\there\nnew\rcr\\back\\\\slash\\N end";
  for (auto& m : first.entries[4].structured_metadata) {
    if (m.name == "transaction_key") m.value = special;
  }
  first.entries[4].line = R"({"Name":"a\tb\\c\nd","Quote":"\"q\""})";
  ASSERT_EQ(sink->Push(first).kind, PushOutcome::Kind::kOk);
  EXPECT_EQ(n.batches_copied.load(), 1u);
  EXPECT_EQ(n.copy_fallbacks.load(), 0u);
  EXPECT_EQ(n.events_inserted.load(), 10u);
  EXPECT_EQ(n.objects_inserted.load(), 20u);
  {
    auto c = Connect(db_->dsn(), {});
    ASSERT_TRUE(c.ok());
    auto rows = (*c)->Query(
        "SELECT transaction_key, payload->>'Name', payload->>'Quote' FROM events WHERE "
        "event_uuid = 'ev-4'");
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    ASSERT_EQ(rows->size(), 1u);
    EXPECT_EQ((*rows)[0][0].value_or(""), special);
    EXPECT_EQ((*rows)[0][1].value_or(""), "a\tb\\c\nd");
    EXPECT_EQ((*rows)[0][2].value_or(""), "\"q\"");
  }

  // Overlapping batch: COPY fails on ev-5..ev-9, INSERTs store ev-10..ev-14.
  ASSERT_EQ(sink->Push(MakeBatch(5, 10)).kind, PushOutcome::Kind::kOk);
  EXPECT_EQ(n.copy_fallbacks.load(), 1u);
  EXPECT_EQ(n.batches_copied.load(), 1u);
  EXPECT_EQ(n.events_inserted.load(), 15u);
  EXPECT_EQ(n.events_duplicate.load(), 5u);
  EXPECT_EQ(CountRows(db_->dsn(), "events"), 15);
  EXPECT_EQ(CountRows(db_->dsn(), "event_objects"), 30);

  // The next 8 batches use INSERTs, then COPY again.
  for (int i = 0; i < 8; ++i) {
    ASSERT_EQ(sink->Push(MakeBatch(100 + 10 * i, 10)).kind, PushOutcome::Kind::kOk);
  }
  EXPECT_EQ(n.batches_copied.load(), 1u);
  ASSERT_EQ(sink->Push(MakeBatch(200, 10)).kind, PushOutcome::Kind::kOk);
  EXPECT_EQ(n.batches_copied.load(), 2u);
  EXPECT_EQ(CountRows(db_->dsn(), "events"), 105);

  // A row the server refuses (invalid JSON: no client-side check on
  // PostgreSQL) fails the COPY; the INSERTs isolate exactly that row.
  Batch bad = MakeBatch(300, 10);
  bad.entries[6].line = "{\"Name\": oops}";
  PushOutcome out = sink->Push(bad);
  ASSERT_EQ(out.kind, PushOutcome::Kind::kPermanent) << out.reason;
  ASSERT_EQ(out.rejected.size(), 1u);
  EXPECT_EQ(out.rejected[0].index, 6u);
  EXPECT_NE(out.rejected[0].reason.find("json"), std::string::npos) << out.rejected[0].reason;
  EXPECT_EQ(n.copy_fallbacks.load(), 2u);
  EXPECT_EQ(CountRows(db_->dsn(), "events"), 114);
  EXPECT_EQ(CountRows(db_->dsn(), "events", "event_uuid = 'ev-306'"), 0);
  auto cp = sink->checkpoint_store()->Load("pubsub:acme:/data/AccountChangeEvent");
  ASSERT_TRUE(cp.ok());
  EXPECT_EQ(cp->value_or(""), "ev-309");
}

// A database at schema version 1 (SQLite: events with json_valid CHECKs) is
// migrated to version 2 on start, keeping every row; the store works on it
// afterwards and still refuses invalid JSON.
TEST_P(SqlBackendTest, SchemaV1DatabaseIsMigratedKeepingItsRows) {
  {
    auto c = Connect(db_->dsn(), {});
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    Status s = Migrate(**c, 1, 1'600'000'000'000);
    ASSERT_TRUE(s.ok()) << s.ToString();
    auto v = ReadSchemaVersion(**c);
    ASSERT_TRUE(v.ok());
    ASSERT_EQ(*v, 1);
    ASSERT_TRUE((*c)->Execute("BEGIN").ok());
    for (int i = 0; i < 30; ++i) {
      const std::string id = "old-" + std::to_string(i);
      const std::string payload = R"({"Name":"Old )" + std::to_string(i) + "\"}";
      const std::string ts = std::to_string(1'650'000'000'000 + i);
      Param ev[] = {std::string_view(id), std::string_view("AccountChangeEvent"),
                    int64_t{1'650'000'000'000} + i, std::string_view(payload),
                    std::string_view(R"(["Name"])")};
      ASSERT_TRUE((*c)->Execute("INSERT INTO events (event_uuid, org, source, event_type, "
                                "ts_ms, replay_position, change_type, transaction_key, "
                                "commit_user, payload, changed_fields, ingested_at) VALUES (?, "
                                "'00Dold', 'pubsub', ?, ?, 'r', 'UPDATE', NULL, 'u', ?, ?, 0)",
                                ev)
                      .ok());
      Param ob[] = {std::string_view(id), int64_t{1'650'000'000'000} + i};
      ASSERT_TRUE((*c)->Execute("INSERT INTO event_objects (object_type, object_id, event_uuid, "
                                "event_type, ts_ms) VALUES ('Account', '001OLD', ?, "
                                "'AccountChangeEvent', ?)",
                                ob)
                      .ok());
    }
    ASSERT_TRUE((*c)->Execute("INSERT INTO checkpoints (\"key\", value, updated_at, epoch) "
                              "VALUES ('pubsub:acme:/data/AccountChangeEvent', 'old-29', 0, 0)")
                    .ok());
    ASSERT_TRUE((*c)->Execute("COMMIT").ok());
  }

  auto sink = StartSink(Options());
  auto c = Connect(db_->dsn(), {});
  ASSERT_TRUE(c.ok());
  auto versions = (*c)->Query("SELECT version FROM forcepipe_schema ORDER BY version");
  ASSERT_TRUE(versions.ok()) << versions.status().ToString();
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_EQ((*versions)[0][0].value_or(""), "1");
  EXPECT_EQ((*versions)[1][0].value_or(""), "2");
  if (GetParam() == "sqlite") {
    auto page = (*c)->Query("PRAGMA page_size");
    ASSERT_TRUE(page.ok());
    EXPECT_EQ((*page)[0][0].value_or(""), "16384") << "a new database gets 16 KiB pages";
    auto ddl = (*c)->Query(
        "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'events' ORDER BY name");
    ASSERT_TRUE(ddl.ok());
    bool table = false, type_ts = false;
    for (const auto& r : *ddl) {
      if (r[1] == "events") {
        table = true;
        EXPECT_EQ(r[2].value_or("").find("json_valid"), std::string::npos) << *r[2];
      }
      if (r[1] == "events_type_ts") type_ts = true;
    }
    EXPECT_TRUE(table);
    EXPECT_TRUE(type_ts);
    // The pruning and history plans still use the index.
    auto plan = (*c)->Query(
        "EXPLAIN QUERY PLAN SELECT rowid FROM events WHERE event_type = 'X' AND ts_ms < 5 "
        "ORDER BY ts_ms LIMIT 10");
    ASSERT_TRUE(plan.ok());
    ASSERT_FALSE(plan->empty());
    EXPECT_NE(plan->back().back().value_or("").find("events_type_ts"), std::string::npos);
  }

  // Old rows kept, byte for byte where the type keeps text (JSONB normalises).
  EXPECT_EQ(CountRows(db_->dsn(), "events"), 30);
  EXPECT_EQ(CountRows(db_->dsn(), "events", "org = '00Dold' AND commit_user = 'u'"), 30);
  EXPECT_EQ(CountRows(db_->dsn(), "event_objects", "object_id = '001OLD'"), 30);
  auto h = sink->QueryHistory("001OLD", 5, "");
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  ASSERT_EQ(h->size(), 5u);
  EXPECT_EQ((*h)[0].event_uuid, "old-29");
  EXPECT_NE((*h)[0].payload.find("Old 29"), std::string::npos) << (*h)[0].payload;
  auto cp = sink->checkpoint_store()->Load("pubsub:acme:/data/AccountChangeEvent");
  ASSERT_TRUE(cp.ok());
  EXPECT_EQ(cp->value_or(""), "old-29");

  // New writes, idempotency and refusals on the migrated schema.
  Batch b = MakeBatch(0, 8);
  b.entries[2].line = "not json";
  PushOutcome out = sink->Push(b);
  ASSERT_EQ(out.kind, PushOutcome::Kind::kPermanent) << out.reason;
  ASSERT_EQ(out.rejected.size(), 1u);
  EXPECT_EQ(out.rejected[0].index, 2u);
  EXPECT_EQ(CountRows(db_->dsn(), "events"), 37);
  ASSERT_EQ(sink->Push(MakeBatch(0, 8)).kind, PushOutcome::Kind::kOk);
  EXPECT_EQ(CountRows(db_->dsn(), "events"), 38);

  // A second start finds version 2 and migrates nothing.
  sink->Stop();
  auto again = StartSink(Options());
  EXPECT_EQ(CountRows(db_->dsn(), "forcepipe_schema"), 2);
  EXPECT_EQ(CountRows(db_->dsn(), "events"), 38);
}

TEST_P(SqlBackendTest, NewerSchemaVersionIsRefused) {
  {
    auto sink = StartSink(Options());
    sink->Stop();
  }
  auto c = Connect(db_->dsn(), {});
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(
      (*c)->Execute("INSERT INTO forcepipe_schema (version, applied_at) VALUES (99, 0)").ok());
  SqlSink sink(Options(), &clock_);
  Status s = sink.Start();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_NE(s.message().find("newer forcepipe"), std::string::npos) << s.ToString();
}

TEST_P(SqlBackendTest, StartupErrorsAreClearAndRedacted) {
  if (GetParam() == "sqlite") {
    SqlSinkOptions o = Options();
    o.store.dsn = *ParseDsn("sqlite:///nonexistent-dir-fp/sub/events.db");
    SqlSink sink(o, &clock_);
    Status s = sink.Start();
    EXPECT_FALSE(s.ok());
    EXPECT_NE(s.message().find("nonexistent-dir-fp"), std::string::npos) << s.ToString();
    return;
  }
  const std::string password = db_->dsn().password;
  ASSERT_FALSE(password.empty());
  // Wrong credentials.
  SqlSinkOptions o = Options();
  o.store.dsn.password = "wrong-" + password;
  std::string text = db_->dsn_text();
  o.store.dsn.original = text.replace(text.find(password), password.size(), "wrong-" + password);
  Status s = SqlSink(o, &clock_).Start();
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated) << s.ToString();
  EXPECT_EQ(s.message().find(password), std::string::npos) << "password leaked";
  EXPECT_NE(s.message().find("****"), std::string::npos) << s.ToString();
  // A database that does not exist.
  o = Options();
  o.store.dsn.database = "fp_missing_db";
  text = db_->dsn_text();
  o.store.dsn.original = text.substr(0, text.rfind('/') + 1) + "fp_missing_db";
  s = SqlSink(o, &clock_).Start();
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
  EXPECT_NE(s.message().find("fp_missing_db"), std::string::npos) << s.ToString();
  EXPECT_EQ(s.message().find(password), std::string::npos) << "password leaked";
  // Nothing listening.
  o = Options();
  o.store.dsn.port = 1;
  o.store.dsn.original = "postgresql://forcepipe:" + password + "@127.0.0.1:1/x";
  o.store.connect.connect_timeout = std::chrono::seconds(2);
  s = SqlSink(o, &clock_).Start();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_EQ(s.message().find(password), std::string::npos) << "password leaked";
}

TEST_P(SqlBackendTest, ConnectionLossIsRetryableThenRecovers) {
  if (GetParam() == "sqlite") GTEST_SKIP() << "no connection to lose in-process";
  auto sink = StartSink(Options());
  ASSERT_EQ(sink->Push(MakeBatch(0, 5)).kind, PushOutcome::Kind::kOk);
  // Kill every other session on this database from an admin connection.
  auto admin = Connect(db_->dsn(), {});
  ASSERT_TRUE(admin.ok());
  if (GetParam() == "postgresql") {
    ASSERT_TRUE((*admin)
                    ->Query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname "
                            "= current_database() AND pid <> pg_backend_pid()")
                    .ok());
  } else {
    auto ids = (*admin)->Query(
        "SELECT id FROM information_schema.processlist WHERE db = DATABASE() AND id <> "
        "CONNECTION_ID()");
    ASSERT_TRUE(ids.ok());
    ASSERT_FALSE(ids->empty());
    for (auto& r : *ids) ASSERT_TRUE((*admin)->Execute("KILL " + r[0].value_or("0")).ok());
  }
  PushOutcome out = sink->Push(MakeBatch(5, 5));
  EXPECT_EQ(out.kind, PushOutcome::Kind::kRetryable);
  EXPECT_FALSE(out.reason.empty());
  // The engine retries: the sink reconnects and delivers.
  out = sink->Push(MakeBatch(5, 5));
  EXPECT_EQ(out.kind, PushOutcome::Kind::kOk) << out.reason;
  EXPECT_EQ(CountRows(db_->dsn(), "events"), 10);
}

#ifdef FP_SQL_SQLITE_ONLY
INSTANTIATE_TEST_SUITE_P(Sqlite, SqlBackendTest, ::testing::Values("sqlite"));
#else
INSTANTIATE_TEST_SUITE_P(All, SqlBackendTest, ::testing::Values("sqlite", "postgresql", "mariadb"),
                         [](const auto& info) { return info.param; });
#endif

}  // namespace
}  // namespace forcepipe::sql
