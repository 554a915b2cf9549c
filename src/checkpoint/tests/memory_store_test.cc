// MemoryCheckpointStore's test hooks: fault injection, the commit log, waits.

#include "checkpoint/memory_store.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace forcepipe {
namespace {

using namespace std::chrono_literals;

TEST(MemoryCheckpointStore, FailNextCommitFailsExactlyNCommitsAndChangesNothing) {
  MemoryCheckpointStore store;
  store.FailNextCommit(Status::Unavailable("disk on fire"), 2);
  EXPECT_EQ(store.Commit(CheckpointMap{{"k", "1"}}).code(), StatusCode::kUnavailable);
  EXPECT_EQ(store.Commit(CheckpointMap{{"k", "2"}}).code(), StatusCode::kUnavailable);
  EXPECT_TRUE(store.Snapshot().empty());
  EXPECT_TRUE(store.Commit(CheckpointMap{{"k", "3"}}).ok());
  EXPECT_EQ(store.Snapshot(), (CheckpointMap{{"k", "3"}}));

  auto log = store.commit_log();
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0].status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(log[1].request.set.at("k"), "2");
  EXPECT_TRUE(log[2].status.ok());
  auto ok = store.successful_commits();
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_EQ(ok[0].set.at("k"), "3");
}

TEST(MemoryCheckpointStore, FailNextLoadFailsLoadsOnly) {
  MemoryCheckpointStore store(CheckpointMap{{"k", "1"}}, 4);
  EXPECT_EQ(store.epoch(), 4u);
  store.FailNextLoad(Status::IOError("nope"));
  EXPECT_EQ(store.Load("k").status().code(), StatusCode::kIOError);
  EXPECT_EQ(store.Load("k")->value_or(""), "1");
  store.FailNextLoad(Status::IOError("nope"));
  EXPECT_FALSE(store.LoadAll().ok());
  EXPECT_TRUE(store.LoadAll().ok());
}

TEST(MemoryCheckpointStore, WaitForValueWakesOnCommitAndTimesOut) {
  MemoryCheckpointStore store;
  EXPECT_FALSE(store.WaitForValue("k", "2", 10ms));
  std::thread writer([&] {
    for (int i = 1; i <= 2; ++i)
      ASSERT_TRUE(store.Commit(CheckpointMap{{"k", std::to_string(i)}}).ok());
  });
  EXPECT_TRUE(store.WaitForValue("k", "2", 10s));
  writer.join();
}

}  // namespace
}  // namespace forcepipe
