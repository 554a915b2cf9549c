#include "pipeline/commit_tracker.h"

#include <gtest/gtest.h>

#include "checkpoint/memory_store.h"
#include "testing/fakes.h"

namespace forcepipe {
namespace {

TEST(CommitTracker, CommitsOnlyInProductionOrder) {
  MemoryCheckpointStore store;
  CommitTracker t(&store);
  t.Register(1, {{"a", "1"}});
  t.Register(2, {{"a", "2"}, {"b", "1"}});
  ASSERT_TRUE(t.Complete(2, true).ok());
  EXPECT_TRUE(store.Snapshot().empty()) << "batch 2 must wait for batch 1";
  ASSERT_TRUE(t.Complete(1, true).ok());
  EXPECT_EQ(store.Snapshot(), (CheckpointMap{{"a", "2"}, {"b", "1"}}));
  // Both batches merged into one store call.
  EXPECT_EQ(store.commit_log().size(), 1u);
  EXPECT_EQ(t.pending(), 0u);
}

TEST(CommitTracker, ObserverSeesOnlyDurablePositionsInOrder) {
  MemoryCheckpointStore store;
  CommitTracker t(&store);
  std::vector<CheckpointMap> seen;
  t.SetObserver([&](const CheckpointMap& m) {
    // Called after the store accepted the commit.
    for (const auto& [k, v] : m) EXPECT_EQ(store.Snapshot().at(k), v);
    seen.push_back(m);
  });
  t.Register(1, {{"a", "1"}});
  t.Register(2, {{"a", "2"}});
  ASSERT_TRUE(t.Complete(2, true).ok());
  EXPECT_TRUE(seen.empty()) << "batch 2 is not durable before batch 1";
  store.FailNextCommit(Status::IOError("disk full"));
  EXPECT_FALSE(t.Complete(1, true).ok());
  EXPECT_TRUE(seen.empty()) << "a failed commit made nothing durable";
  ASSERT_TRUE(t.Flush().ok());
  EXPECT_EQ(seen, (std::vector<CheckpointMap>{{{"a", "2"}}}));
}

TEST(CommitTracker, AbandonedBatchBlocksLaterCommitsOnItsKeysOnly) {
  MemoryCheckpointStore store;
  CommitTracker t(&store);
  t.Register(1, {{"a", "1"}});
  t.Register(2, {{"a", "2"}, {"b", "5"}});
  t.Register(3, {{"a", "3"}});
  ASSERT_TRUE(t.Complete(1, false).ok());  // abandoned
  ASSERT_TRUE(t.Complete(2, true).ok());
  ASSERT_TRUE(t.Complete(3, true).ok());
  EXPECT_EQ(store.Snapshot(), (CheckpointMap{{"b", "5"}}));
  EXPECT_EQ(t.blocked_keys(), (std::set<std::string>{"a"}));
}

TEST(CommitTracker, FailedCommitIsRetriedWithTheNext) {
  MemoryCheckpointStore store;
  CommitTracker t(&store);
  store.FailNextCommit(Status::IOError("disk full"));
  t.Register(1, {{"a", "1"}});
  t.Register(2, {{"b", "1"}});
  EXPECT_EQ(t.Complete(1, true).code(), StatusCode::kIOError);
  EXPECT_TRUE(store.Snapshot().empty());
  ASSERT_TRUE(t.Complete(2, true).ok());
  EXPECT_EQ(store.Snapshot(), (CheckpointMap{{"a", "1"}, {"b", "1"}}));
  EXPECT_EQ(t.commit_failures(), 1u);
}

TEST(CommitTracker, FencingEpochIsPassedAndEnforced) {
  MemoryCheckpointStore store;
  uint64_t epoch = 5;
  CommitTracker t(&store, [&]() -> Result<uint64_t> { return epoch; });
  t.Register(1, {{"a", "1"}});
  ASSERT_TRUE(t.Complete(1, true).ok());
  epoch = 4;  // a deposed leader
  t.Register(2, {{"a", "2"}});
  EXPECT_EQ(t.Complete(2, true).code(), StatusCode::kFenced);
  EXPECT_EQ(store.Snapshot().at("a"), "1");
}

}  // namespace
}  // namespace forcepipe
