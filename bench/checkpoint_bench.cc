// Checkpoint commit latency: each commit of the file and SQLite stores is
// durable (fsync), so this measures what one batch's checkpoint costs.
//
//   build/release/bench/checkpoint_bench

#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "checkpoint/file_store.h"
#include "checkpoint/memory_store.h"
#include "checkpoint/sqlite_store.h"

namespace forcepipe {
namespace {

std::string MakeTempDir() {
  std::string dir = (std::filesystem::temp_directory_path() / "fp-bench-XXXXXX").string();
  return ::mkdtemp(dir.data()) ? dir : "";
}

template <typename Open>
void RunCommits(benchmark::State& state, Open open) {
  const std::string dir = MakeTempDir();
  auto store = open(dir);
  if (!store) {
    state.SkipWithError("open failed");
    return;
  }
  const int keys = static_cast<int>(state.range(0));
  uint64_t seq = 0;
  for (auto _ : state) {
    CheckpointMap m;
    ++seq;
    for (int k = 0; k < keys; ++k) m["synthetic:gen:k" + std::to_string(k)] = std::to_string(seq);
    if (!store->Commit(m).ok()) state.SkipWithError("commit failed");
  }
  state.SetItemsProcessed(state.iterations());
  store.reset();
  std::filesystem::remove_all(dir);
}

void BM_FileCommit(benchmark::State& state) {
  RunCommits(state, [](const std::string& dir) -> std::unique_ptr<CheckpointStore> {
    auto r = FileCheckpointStore::Open(dir + "/cp.json");
    return r.ok() ? std::move(r).value() : nullptr;
  });
}
BENCHMARK(BM_FileCommit)->ArgName("keys")->Arg(4)->Arg(1000)->UseRealTime();

void BM_SqliteCommit(benchmark::State& state) {
  RunCommits(state, [](const std::string& dir) -> std::unique_ptr<CheckpointStore> {
    auto r = SqliteCheckpointStore::Open(dir + "/cp.db");
    return r.ok() ? std::move(r).value() : nullptr;
  });
}
BENCHMARK(BM_SqliteCommit)->ArgName("keys")->Arg(4)->Arg(1000)->UseRealTime();

void BM_MemoryCommit(benchmark::State& state) {
  RunCommits(state, [](const std::string&) -> std::unique_ptr<CheckpointStore> {
    return std::make_unique<MemoryCheckpointStore>();
  });
}
BENCHMARK(BM_MemoryCommit)->ArgName("keys")->Arg(4);

}  // namespace
}  // namespace forcepipe

BENCHMARK_MAIN();
