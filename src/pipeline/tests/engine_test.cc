#include "pipeline/engine.h"

#include <gtest/gtest.h>

#include <thread>

#include "checkpoint/memory_store.h"
#include "testing/fakes.h"

namespace forcepipe {
namespace {

using testing::CollectingSink;
using testing::MakeCheckpointOnly;
using testing::MakeEntry;
using testing::ScriptedSource;
using testing::WaitUntil;

EngineOptions Fast() {
  EngineOptions o;
  for (LaneOptions* l : {&o.streaming, &o.bulk}) {
    l->batch_interval = std::chrono::milliseconds(5);
    l->retry.initial = std::chrono::microseconds(50);
    l->retry.max = std::chrono::milliseconds(1);
  }
  o.shutdown_grace = std::chrono::seconds(10);
  return o;
}

TEST(Engine, FiniteSourcesDrainAndCommitEverything) {
  CollectingSink sink;
  MemoryCheckpointStore store;
  std::vector<Entry> live, bulk;
  for (int i = 1; i <= 500; ++i)
    live.push_back(MakeEntry("live", std::to_string(i), "l" + std::to_string(i)));
  for (int i = 1; i <= 300; ++i)
    bulk.push_back(MakeEntry("bulk", std::to_string(i), "b" + std::to_string(i)));
  live.push_back(MakeCheckpointOnly("live", "900"));
  std::vector<std::unique_ptr<Source>> sources;
  sources.push_back(std::make_unique<ScriptedSource>("s1", live, LaneKind::kStreaming));
  sources.push_back(std::make_unique<ScriptedSource>("s2", bulk, LaneKind::kBulk));
  sink.FailNextPush(CollectingSink::Fail::kRetryable, 3);
  Engine engine(Fast(), std::move(sources), std::make_unique<testing::SinkRef>(&sink),
                std::make_unique<testing::StoreRef>(&store));
  ASSERT_TRUE(engine.Run().ok());
  EXPECT_EQ(sink.delivered_count(), 800u);
  EXPECT_EQ(store.Snapshot(), (CheckpointMap{{"bulk", "300"}, {"live", "900"}}));
  EXPECT_EQ(engine.source_status()[0]->emitted.load(), 500u);
}

TEST(Engine, StopRequestDrainsWhatWasAcceptedAndExitsOk) {
  CollectingSink sink;
  MemoryCheckpointStore store;
  std::vector<Entry> script;
  for (int i = 1; i <= 100; ++i) script.push_back(MakeEntry("k", std::to_string(i), "x"));
  std::vector<std::unique_ptr<Source>> sources;
  auto src =
      std::make_unique<ScriptedSource>("held", script, LaneKind::kStreaming, /*hold_open=*/true);
  ScriptedSource* raw = src.get();
  sources.push_back(std::move(src));
  Engine engine(Fast(), std::move(sources), std::make_unique<testing::SinkRef>(&sink),
                std::make_unique<testing::StoreRef>(&store));
  std::thread stopper([&] {
    WaitUntil([&] { return raw->emitted() == 100; });
    engine.RequestStop();
  });
  ASSERT_TRUE(engine.Run().ok());
  stopper.join();
  EXPECT_EQ(sink.delivered_count(), 100u);
  EXPECT_EQ(store.Snapshot().at("k"), "100");
}

TEST(Engine, ShutdownGraceAbandonsUndeliverableBatch) {
  CollectingSink sink;
  MemoryCheckpointStore store;
  sink.SetHook(
      [](const Batch&) -> std::optional<PushOutcome> { return PushOutcome::Retryable("down"); });
  std::vector<std::unique_ptr<Source>> sources;
  sources.push_back(
      std::make_unique<ScriptedSource>("s", std::vector<Entry>{MakeEntry("k", "1", "x")}));
  EngineOptions o = Fast();
  o.shutdown_grace = std::chrono::milliseconds(100);
  Engine engine(o, std::move(sources), std::make_unique<testing::SinkRef>(&sink),
                std::make_unique<testing::StoreRef>(&store));
  ASSERT_TRUE(engine.Run().ok());
  EXPECT_TRUE(store.Snapshot().empty()) << "nothing was delivered, nothing may be committed";
  EXPECT_EQ(engine.lane(LaneKind::kStreaming)->stats().batches_abandoned.load(), 1u);
}

class FailingSource final : public Source {
 public:
  std::string_view kind() const override { return "failing"; }
  const std::string& name() const override { return name_; }
  LaneKind lane() const override { return LaneKind::kStreaming; }
  Status Run(SourceContext&) override { return Status::Unauthenticated("bad credentials"); }

 private:
  std::string name_ = "f";
};

TEST(Engine, SourceFailureStopsWithItsStatus) {
  CollectingSink sink;
  MemoryCheckpointStore store;
  std::vector<std::unique_ptr<Source>> sources;
  sources.push_back(std::make_unique<FailingSource>());
  Engine engine(Fast(), std::move(sources), std::make_unique<testing::SinkRef>(&sink),
                std::make_unique<testing::StoreRef>(&store));
  Status s = engine.Run();
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated);
  EXPECT_NE(s.message().find("source f"), std::string::npos);
}

TEST(Engine, EveryCommitFailingExitsNonZeroNotOkAfterTheGracePeriod) {
  CollectingSink sink;
  MemoryCheckpointStore store;
  store.FailNextCommit(Status::IOError("disk gone"), 1'000'000);
  std::vector<Entry> script;
  for (int i = 1; i <= 20; ++i) script.push_back(MakeEntry("k", std::to_string(i), "x"));
  std::vector<std::unique_ptr<Source>> sources;
  sources.push_back(std::make_unique<ScriptedSource>("s", script));
  Engine engine(Fast(), std::move(sources), std::make_unique<testing::SinkRef>(&sink),
                std::make_unique<testing::StoreRef>(&store));
  Status s = engine.Run();
  EXPECT_TRUE(store.Snapshot().empty());
  ASSERT_FALSE(s.ok()) << "nothing was committed, yet the run reported success";
  EXPECT_NE(s.message().find("disk gone"), std::string::npos) << s.message();
}

TEST(Engine, PermanentCommitFailureStopsTheRunWithItsStatus) {
  CollectingSink sink;
  MemoryCheckpointStore store;
  store.FailNextCommit(Status::Corruption("checkpoint file x is corrupt"), 1'000'000);
  std::vector<Entry> script;
  for (int i = 1; i <= 5; ++i) script.push_back(MakeEntry("k", std::to_string(i), "x"));
  std::vector<std::unique_ptr<Source>> sources;
  // Held open: only the permanent failure can end this run.
  sources.push_back(
      std::make_unique<ScriptedSource>("s", script, LaneKind::kStreaming, /*hold_open=*/true));
  Engine engine(Fast(), std::move(sources), std::make_unique<testing::SinkRef>(&sink),
                std::make_unique<testing::StoreRef>(&store));
  Status s;
  std::thread run([&] { s = engine.Run(); });
  bool stopped = WaitUntil([&] { return !engine.running() && sink.delivered_count() > 0; },
                           std::chrono::seconds(20));
  if (!stopped) engine.RequestStop();
  run.join();
  EXPECT_TRUE(stopped) << "a permanent commit error must stop the run, not be retried forever";
  EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
}

TEST(Engine, FatalSinkAnswerStopsTheRunAndCommitsNothing) {
  CollectingSink sink;
  MemoryCheckpointStore store;
  sink.SetHook([](const Batch&) -> std::optional<PushOutcome> {
    return PushOutcome::Fatal("no such table: events");
  });
  std::vector<std::unique_ptr<Source>> sources;
  sources.push_back(std::make_unique<ScriptedSource>(
      "s", std::vector<Entry>{MakeEntry("k", "1", "x"), MakeEntry("k", "2", "y")},
      LaneKind::kStreaming, /*hold_open=*/true));
  Engine engine(Fast(), std::move(sources), std::make_unique<testing::SinkRef>(&sink),
                std::make_unique<testing::StoreRef>(&store));
  Status s;
  std::thread run([&] { s = engine.Run(); });
  bool stopped =
      WaitUntil([&] { return sink.pushes() > 0 && !engine.running(); }, std::chrono::seconds(20));
  if (!stopped) engine.RequestStop();
  run.join();
  EXPECT_TRUE(stopped);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("no such table: events"), std::string::npos) << s.message();
  EXPECT_TRUE(store.Snapshot().empty());
}

}  // namespace
}  // namespace forcepipe
