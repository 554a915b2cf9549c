// File sink hot path: formatting entries as JSON lines into the reused buffer,
// and whole pushes (format + write, with and without fdatasync).
//
//   build/release/bench/sink_file_bench

#include <benchmark/benchmark.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "sinks/file/file_sinks.h"
#include "sinks/file/json_writer.h"

namespace forcepipe {
namespace {

Batch MakeBatch(int n, size_t pad) {
  auto labels =
      std::make_shared<LabelSet>(LabelSet{{"source", "synthetic"}, {"event_type", "synthetic"}});
  Batch b;
  for (int i = 0; i < n; ++i) {
    const std::string id = "gen-k1-" + std::to_string(i + 1);
    Entry e;
    e.timestamp_ns = 1'700'000'000'000'000'000 + i;
    e.labels = labels;
    e.line = R"({"id":")" + id + R"(","key":1,"seq":)" + std::to_string(i + 1) + R"(,"pad":")" +
             std::string(pad, 'x') + "\"}";
    e.structured_metadata = {{"event_id", id}};
    e.objects = {{"Account", "001000000000001AAA"}};
    e.byte_size = e.ComputeByteSize();
    b.bytes += e.byte_size;
    b.entries.push_back(std::move(e));
  }
  return b;
}

void BM_AppendEntryJson(benchmark::State& state) {
  Batch b = MakeBatch(1000, static_cast<size_t>(state.range(0)));
  std::string out;
  size_t bytes = 0;
  for (auto _ : state) {
    out.clear();
    for (const auto& e : b.entries) file_sink::AppendEntryJson(out, e);
    bytes += out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * 1000);
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_AppendEntryJson)->Arg(200)->Arg(2000);

// A line that is mostly escapes and multi-byte UTF-8: the slow path.
void BM_AppendJsonStringEscapeHeavy(benchmark::State& state) {
  std::string s;
  for (int i = 0; i < 100; ++i) s += "\"q\"\t\\ caf\xc3\xa9 \xe2\x82\xac\n";
  std::string out;
  for (auto _ : state) {
    out.clear();
    file_sink::AppendJsonString(out, s);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * s.size()));
}
BENCHMARK(BM_AppendJsonStringEscapeHeavy);

void BM_JsonlPush(benchmark::State& state) {
  std::string dir = (std::filesystem::temp_directory_path() / "fp-bench-XXXXXX").string();
  if (::mkdtemp(dir.data()) == nullptr) {
    state.SkipWithError("mkdtemp failed");
    return;
  }
  JsonlSink::Options o;
  o.path = dir + "/out.jsonl";
  o.fsync = state.range(0) != 0;
  JsonlSink sink(o);
  if (!sink.Start().ok()) {
    state.SkipWithError("start failed");
    return;
  }
  Batch b = MakeBatch(1000, 200);
  for (auto _ : state) {
    if (sink.Push(b).kind != PushOutcome::Kind::kOk) state.SkipWithError("push failed");
  }
  sink.Stop();
  state.SetItemsProcessed(state.iterations() * 1000);
  state.SetBytesProcessed(static_cast<int64_t>(sink.stats().bytes));
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_JsonlPush)->ArgName("fsync")->Arg(0)->Arg(1)->UseRealTime();

}  // namespace
}  // namespace forcepipe

BENCHMARK_MAIN();
