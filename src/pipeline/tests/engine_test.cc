#include "pipeline/engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "checkpoint/memory_store.h"
#include "core/log.h"
#include "testing/fakes.h"
#include "testing/process.h"

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

// A sink that rejects the first entry of its first push with `reason`.
void RejectFirstEntryOnce(CollectingSink& sink, std::string reason) {
  auto once = std::make_shared<std::atomic<bool>>(false);
  sink.SetHook([once, reason](const Batch&) -> std::optional<PushOutcome> {
    if (once->exchange(true)) return std::nullopt;
    return PushOutcome::Permanent({{0, reason}});
  });
}

TEST(Engine, DeadLetterReasonAndLineAreRedacted) {
  log::RegisterSecret("EngineDlBearer-42z");
  testing::TempDir dir;
  CollectingSink sink;
  MemoryCheckpointStore store;
  RejectFirstEntryOnce(sink, "HTTP 400: echo Authorization=Bearer EngineDlBearer-42z");
  std::vector<std::unique_ptr<Source>> sources;
  sources.push_back(std::make_unique<ScriptedSource>(
      "s", std::vector<Entry>{MakeEntry("k", "1", "line EngineDlBearer%2D42z")}));
  EngineOptions o = Fast();
  o.dead_letter_path = dir.File("dead-letters.jsonl");
  Engine engine(o, std::move(sources), std::make_unique<testing::SinkRef>(&sink),
                std::make_unique<testing::StoreRef>(&store));
  ASSERT_TRUE(engine.Run().ok());
  const std::string text = testing::ReadFile(o.dead_letter_path);
  EXPECT_EQ(text.find("EngineDlBearer"), std::string::npos) << text;
  EXPECT_NE(text.find("\"reason\":\"HTTP 400: echo Authorization=Bearer ***\""), std::string::npos)
      << text;
  EXPECT_NE(text.find("\"line\":\"line ***\""), std::string::npos) << text;
  EXPECT_EQ(engine.dead_letters(), 1u);
}

TEST(Engine, UnwritableDeadLetterFileHoldsPositionUntilTheEntryIsWritten) {
  testing::TempDir dir;
  // A regular file where data_dir should be: every dead-letter write fails
  // (as on a read-only or full data_dir; tests run as root, so no chmod).
  const std::string blocked = dir.File("data");
  testing::WriteFile(blocked, "not a directory");
  CollectingSink sink;
  MemoryCheckpointStore store;
  RejectFirstEntryOnce(sink, "poison");
  std::vector<Entry> script;
  for (int i = 1; i <= 5; ++i) script.push_back(MakeEntry("k", std::to_string(i), "x"));
  std::vector<std::unique_ptr<Source>> sources;
  sources.push_back(
      std::make_unique<ScriptedSource>("s", script, LaneKind::kStreaming, /*hold_open=*/true));
  EngineOptions o = Fast();
  o.dead_letter_path = blocked + "/dead-letters.jsonl";
  Engine engine(o, std::move(sources), std::make_unique<testing::SinkRef>(&sink),
                std::make_unique<testing::StoreRef>(&store));
  Status result;
  std::thread runner([&] { result = engine.Run(); });
  const LaneStats& st = engine.lane(LaneKind::kStreaming)->stats();
  ASSERT_TRUE(
      WaitUntil([&] { return st.dead_letter_failures.load() >= 3 || !store.Snapshot().empty(); }));
  // Retried, and in the meantime nothing at or past the rejected entry is committed.
  EXPECT_TRUE(store.Snapshot().empty()) << "committed past an entry that is nowhere";
  EXPECT_NE(st.dead_letter_failing_since_unix_ns.load(), 0);
  EXPECT_EQ(engine.dead_letters(), 0u);
  EXPECT_EQ(st.entries_dropped.load(), 0u);

  std::filesystem::remove(blocked);  // the disk is writable again
  ASSERT_TRUE(WaitUntil([&] {
    auto snap = store.Snapshot();
    return snap.count("k") && snap.at("k") == "5";
  }));
  const std::string text = testing::ReadFile(o.dead_letter_path);
  EXPECT_NE(text.find("\"position\":\"1\""), std::string::npos) << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
  EXPECT_EQ(engine.dead_letters(), 1u);
  EXPECT_EQ(st.entries_dropped.load(), 1u);
  EXPECT_EQ(st.dead_letter_failing_since_unix_ns.load(), 0);
  engine.RequestStop();
  runner.join();
  EXPECT_TRUE(result.ok()) << result.ToString();
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
