// SQL event store write throughput: events/s for ~1 KB CDC-like events (one
// record each, change type, changed fields, commit user), batches of 1000,
// each batch one transaction with its checkpoint — exactly SqlSink::Push.
//
//   BM_SqlSqlite     a WAL SQLite file in $TMPDIR
//   BM_SqlPostgres   the PostgreSQL at $FORCEPIPE_BENCH_PG_DSN (or the DSN in the
//                    file $FORCEPIPE_PG_DSN_FILE, as written by
//                    scripts/test-servers/postgres.sh); skipped when neither is set
//   BM_SqlMariaDb    likewise with $FORCEPIPE_BENCH_MARIADB_DSN / $FORCEPIPE_MARIADB_DSN_FILE
//
// With a DSN file (a throwaway test server) each run first DROPS the store's
// tables, so every run starts empty and runs are comparable. A DSN given
// directly is never dropped from: runs then add to whatever is there.

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "core/clock.h"
#include "sinks/sql/connection.h"
#include "sinks/sql/sql_sink.h"

namespace forcepipe::sql {
namespace {

constexpr int kBatch = 1000;
constexpr size_t kLineBytes = 1024;

struct BenchDsn {
  std::string text;
  bool throwaway = false;  // from a test server's DSN file: tables may be dropped
};

BenchDsn DsnFromEnv(const char* direct, const char* file) {
  if (const char* d = std::getenv(direct)) return {d, false};
  if (const char* f = std::getenv(file)) {
    std::ifstream in(f);
    std::string s;
    std::getline(in, s);
    return {s, true};
  }
  return {};
}

class EventMaker {
 public:
  EventMaker()
      : labels_(std::make_shared<const LabelSet>(LabelSet{{"source", "pubsub"},
                                                          {"event_type", "AccountChangeEvent"},
                                                          {"sf_org_id", "00D5e000000abcd"}})) {}

  Batch Next() {
    Batch b;
    b.entries.reserve(kBatch);
    for (int i = 0; i < kBatch; ++i) {
      ++seq_;
      Entry e;
      e.labels = labels_;
      e.timestamp_ns = 1'700'000'000'000'000'000 + seq_ * 1'000'000;
      std::string id = "bench-" + std::to_string(run_) + "-" + std::to_string(seq_);
      std::string record = "001" + std::to_string(100000000000 + seq_ % 50000);
      const char* ct = seq_ % 7 ? "UPDATE" : "CREATE";
      std::string line = "{\"ChangeEventHeader\":{\"entityName\":\"Account\",\"recordIds\":[\"" +
                         record + "\"],\"changeType\":\"" + ct +
                         "\",\"changedFields\":[\"Name\",\"Phone\",\"LastModifiedDate\"],"
                         "\"commitUser\":\"005xx000001Sv6eAAC\",\"commitTimestamp\":" +
                         std::to_string(e.timestamp_ns / 1'000'000) +
                         ",\"transactionKey\":\"00051c5e-2d43-c9a1-8d8c-e55e3e9ce1a7\"},"
                         "\"Name\":\"Acme " +
                         std::to_string(seq_) +
                         "\",\"Phone\":\"+1 555 0100\",\"LastModifiedDate\":" +
                         std::to_string(e.timestamp_ns / 1'000'000) + ",\"Description\":\"";
      line += std::string(kLineBytes - line.size() - 2, 'x');
      line += "\"}";
      e.line = std::move(line);
      e.structured_metadata = {{"event_id", id},
                               {"replay_id", "AAAAAAAA" + std::to_string(seq_)},
                               {"change_type", ct},
                               {"commit_user", "005xx000001Sv6eAAC"},
                               {"transaction_key", "00051c5e-2d43-c9a1-8d8c-e55e3e9ce1a7"},
                               {"changed_fields", R"(["Name","Phone","LastModifiedDate"])"}};
      e.objects = {{"Account", record}};
      e.checkpoint = {"pubsub:acme:/data/AccountChangeEvent", std::to_string(seq_)};
      e.byte_size = e.ComputeByteSize();
      b.bytes += e.byte_size;
      b.checkpoints[e.checkpoint.key] = e.checkpoint.value;
      b.entries.push_back(std::move(e));
    }
    return b;
  }

 private:
  LabelSetRef labels_;
  int64_t seq_ = 0;
  int64_t run_ = getpid();
};

void RunSink(benchmark::State& state, const std::string& dsn_text, bool fresh_tables) {
  auto dsn = ParseDsn(dsn_text);
  if (!dsn.ok()) {
    state.SkipWithError(dsn.status().ToString().c_str());
    return;
  }
  if (fresh_tables && dsn->backend != Backend::kSqlite) {
    // Every run starts on empty tables (the sink recreates them), so runs are
    // comparable: index inserts slow down as the tables outgrow the server's
    // buffers.
    auto c = Connect(*dsn, {});
    if (!c.ok()) {
      state.SkipWithError(c.status().ToString().c_str());
      return;
    }
    for (const char* t :
         {"events", "event_objects", "checkpoints", "checkpoint_epoch", "forcepipe_schema"}) {
      if (Status s = (*c)->Execute(std::string("DROP TABLE IF EXISTS ") + t); !s.ok()) {
        state.SkipWithError(s.ToString().c_str());
        return;
      }
    }
  }
  SqlSinkOptions o;
  o.store.dsn = *dsn;
  SqlSink sink(o, Clock::Real());
  if (Status s = sink.Start(); !s.ok()) {
    state.SkipWithError(s.ToString().c_str());
    return;
  }
  EventMaker maker;
  // Batches are built (and the previous one freed) outside the timed region.
  Batch b;
  for (auto _ : state) {
    state.PauseTiming();
    b = maker.Next();
    state.ResumeTiming();
    PushOutcome out = sink.Push(b);
    if (out.kind != PushOutcome::Kind::kOk) {
      state.SkipWithError(out.reason.c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.SetBytesProcessed(state.iterations() * kBatch * static_cast<int64_t>(kLineBytes));
  sink.Stop();
}

void BM_SqlSqlite(benchmark::State& state) {
  std::string dir = (std::filesystem::temp_directory_path() / "fp-sql-bench-XXXXXX").string();
  if (!mkdtemp(dir.data())) {
    state.SkipWithError("mkdtemp failed");
    return;
  }
  RunSink(state, "sqlite://" + dir + "/events.db", false);
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_SqlSqlite)->Unit(benchmark::kMillisecond)->MinTime(5.0)->UseRealTime();

void BM_SqlPostgres(benchmark::State& state) {
  BenchDsn dsn = DsnFromEnv("FORCEPIPE_BENCH_PG_DSN", "FORCEPIPE_PG_DSN_FILE");
  if (dsn.text.empty()) {
    state.SkipWithError("set FORCEPIPE_BENCH_PG_DSN or FORCEPIPE_PG_DSN_FILE");
    return;
  }
  RunSink(state, dsn.text, dsn.throwaway);
}
BENCHMARK(BM_SqlPostgres)->Unit(benchmark::kMillisecond)->MinTime(5.0)->UseRealTime();

void BM_SqlMariaDb(benchmark::State& state) {
  BenchDsn dsn = DsnFromEnv("FORCEPIPE_BENCH_MARIADB_DSN", "FORCEPIPE_MARIADB_DSN_FILE");
  if (dsn.text.empty()) {
    state.SkipWithError("set FORCEPIPE_BENCH_MARIADB_DSN or FORCEPIPE_MARIADB_DSN_FILE");
    return;
  }
  RunSink(state, dsn.text, dsn.throwaway);
}
BENCHMARK(BM_SqlMariaDb)->Unit(benchmark::kMillisecond)->MinTime(5.0)->UseRealTime();

}  // namespace
}  // namespace forcepipe::sql

BENCHMARK_MAIN();
