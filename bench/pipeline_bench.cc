// Queue + batcher + commit throughput of one lane: 200-byte entries pushed by
// one producer through a LaneQueue, batched, "pushed" to a sink that discards,
// and committed in order to an in-memory checkpoint store.

#include <benchmark/benchmark.h>

#include "checkpoint/memory_store.h"
#include "pipeline/lane.h"
#include "testing/fakes.h"

namespace forcepipe {
namespace {

class DiscardSink final : public Sink {
 public:
  std::string_view kind() const override { return "discard"; }
  PushOutcome Push(const Batch& b) override {
    benchmark::DoNotOptimize(b.entries.data());
    return PushOutcome::Ok();
  }
  int max_in_flight() const override { return 4; }
};

void BM_LaneThroughput(benchmark::State& state) {
  const int64_t kEntries = 200'000;
  const int keys = 8;
  std::vector<Entry> proto;
  auto labels = std::make_shared<LabelSet>(LabelSet{{"source", "bench"}});
  for (int k = 0; k < keys; ++k) {
    Entry e;
    e.line.assign(200, 'x');
    e.labels = labels;
    e.checkpoint.key = "bench:k" + std::to_string(k);
    proto.push_back(e);
  }
  for (auto _ : state) {
    DiscardSink sink;
    MemoryCheckpointStore store;
    CommitTracker tracker(&store);
    LaneOptions o;
    o.batch_max_entries = static_cast<size_t>(state.range(0));
    o.max_in_flight = static_cast<int>(state.range(1));
    o.batch_interval = std::chrono::milliseconds(50);
    Lane lane(LaneKind::kStreaming, o, &sink, &tracker, Clock::Real());
    lane.Start();
    for (int64_t i = 0; i < kEntries; ++i) {
      Entry e = proto[i % keys];
      e.checkpoint.value = std::to_string(i);
      lane.Push(std::move(e), nullptr);
    }
    lane.Close();
    lane.WaitDrained(SteadyTime::max());
    lane.Join();
    if (store.Snapshot().size() != static_cast<size_t>(keys))
      state.SkipWithError("not all keys committed");
  }
  state.SetItemsProcessed(state.iterations() * kEntries);
  state.SetBytesProcessed(state.iterations() * kEntries * 200);
}
BENCHMARK(BM_LaneThroughput)
    ->Args({1000, 1})
    ->Args({1000, 4})
    ->Args({100, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace forcepipe

BENCHMARK_MAIN();
