// The CheckpointStore contract (core/checkpoint_store.h), run against every
// store: memory, file and sqlite.

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "checkpoint/file_store.h"
#include "checkpoint/memory_store.h"
#include "checkpoint/sqlite_store.h"
#include "checkpoint/tests/test_util.h"

namespace forcepipe {
namespace {

using testing_util::TempDir;

struct StoreKind {
  std::string name;
  // Opens (or re-opens) the store kept under `dir`.
  std::function<std::unique_ptr<CheckpointStore>(const std::string& dir)> open;
  bool durable;
};

std::string PrintName(const ::testing::TestParamInfo<StoreKind>& info) { return info.param.name; }

class CheckpointContract : public ::testing::TestWithParam<StoreKind> {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    store_ = GetParam().open(dir_.path());
    ASSERT_NE(store_, nullptr);
  }
  void Reopen() {
    store_.reset();
    store_ = GetParam().open(dir_.path());
    ASSERT_NE(store_, nullptr);
  }
  std::optional<std::string> Get(const std::string& key) {
    auto r = store_->Load(key);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::nullopt;
  }
  CheckpointMap All() {
    auto r = store_->LoadAll();
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : CheckpointMap{};
  }

  TempDir dir_;
  std::unique_ptr<CheckpointStore> store_;
};

TEST_P(CheckpointContract, EmptyStoreHasNothing) {
  EXPECT_EQ(Get("a"), std::nullopt);
  EXPECT_TRUE(All().empty());
  EXPECT_EQ(store_->kind(), GetParam().name);
}

TEST_P(CheckpointContract, CommitThenLoadReturnsValues) {
  ASSERT_TRUE(store_->Commit(CheckpointMap{{"a", "1"}, {"b", "2"}}).ok());
  EXPECT_EQ(Get("a"), "1");
  EXPECT_EQ(Get("b"), "2");
  EXPECT_EQ(Get("c"), std::nullopt);
  EXPECT_EQ(All(), (CheckpointMap{{"a", "1"}, {"b", "2"}}));
  ASSERT_TRUE(store_->Commit(CheckpointMap{{"a", "10"}}).ok());
  EXPECT_EQ(All(), (CheckpointMap{{"a", "10"}, {"b", "2"}}));
}

TEST_P(CheckpointContract, SetAndEraseApplyTogether) {
  ASSERT_TRUE(store_->Commit(CheckpointMap{{"a", "1"}, {"b", "2"}, {"c", "3"}}).ok());
  CommitRequest r;
  r.set = {{"a", "11"}, {"d", "4"}};
  r.erase = {"b", "missing"};
  ASSERT_TRUE(store_->Commit(r).ok());
  EXPECT_EQ(All(), (CheckpointMap{{"a", "11"}, {"c", "3"}, {"d", "4"}}));
}

TEST_P(CheckpointContract, ExpectMatchingValuesApplies) {
  ASSERT_TRUE(store_->Commit(CheckpointMap{{"a", "1"}}).ok());
  CommitRequest r;
  r.set = {{"a", "2"}, {"b", "1"}};
  r.expect = {{"a", "1"}, {"b", std::nullopt}};
  ASSERT_TRUE(store_->Commit(r).ok());
  EXPECT_EQ(All(), (CheckpointMap{{"a", "2"}, {"b", "1"}}));
}

TEST_P(CheckpointContract, ExpectMismatchConflictsAndChangesNothing) {
  ASSERT_TRUE(store_->Commit(CheckpointMap{{"a", "1"}, {"b", "1"}}).ok());
  CommitRequest wrong_value;
  wrong_value.set = {{"a", "2"}, {"c", "1"}};
  wrong_value.erase = {"b"};
  wrong_value.expect = {{"a", "0"}};
  wrong_value.epoch = 9;
  Status s = store_->Commit(wrong_value);
  EXPECT_EQ(s.code(), StatusCode::kConflict) << s.ToString();
  EXPECT_NE(s.message().find("\"a\""), std::string::npos) << s.message();

  CommitRequest not_absent;
  not_absent.set = {{"c", "1"}};
  not_absent.expect = {{"b", std::nullopt}};
  EXPECT_EQ(store_->Commit(not_absent).code(), StatusCode::kConflict);

  CommitRequest not_present;
  not_present.set = {{"c", "1"}};
  not_present.expect = {{"zz", "1"}};
  EXPECT_EQ(store_->Commit(not_present).code(), StatusCode::kConflict);

  EXPECT_EQ(All(), (CheckpointMap{{"a", "1"}, {"b", "1"}}));
  // The conflicting commit's epoch 9 was not accepted either.
  CommitRequest lower;
  lower.set = {{"a", "5"}};
  lower.epoch = 3;
  EXPECT_TRUE(store_->Commit(lower).ok());
  EXPECT_EQ(Get("a"), "5");
}

TEST_P(CheckpointContract, LowerEpochIsFencedAndChangesNothing) {
  CommitRequest r5;
  r5.set = {{"a", "1"}};
  r5.epoch = 5;
  ASSERT_TRUE(store_->Commit(r5).ok());

  CommitRequest r4;
  r4.set = {{"a", "old-leader"}, {"b", "x"}};
  r4.erase = {};
  r4.epoch = 4;
  Status s = store_->Commit(r4);
  EXPECT_EQ(s.code(), StatusCode::kFenced) << s.ToString();
  EXPECT_NE(s.message().find("epoch 4"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("epoch 5"), std::string::npos) << s.message();
  EXPECT_EQ(All(), (CheckpointMap{{"a", "1"}}));

  CommitRequest same;
  same.set = {{"a", "2"}};
  same.epoch = 5;
  EXPECT_TRUE(store_->Commit(same).ok());
  CommitRequest higher;
  higher.set = {{"a", "3"}};
  higher.epoch = 7;
  EXPECT_TRUE(store_->Commit(higher).ok());
  same.set = {{"a", "4"}};
  EXPECT_EQ(store_->Commit(same).code(), StatusCode::kFenced);
  // Once a fenced commit was accepted, an unfenced (epoch 0) one is lower too.
  EXPECT_EQ(store_->Commit(CheckpointMap{{"a", "5"}}).code(), StatusCode::kFenced);
  EXPECT_EQ(Get("a"), "3");
}

TEST_P(CheckpointContract, EmptyCommitWithEpochFencesOlderLeader) {
  ASSERT_TRUE(store_->Commit(CheckpointMap{{"a", "1"}}).ok());
  CommitRequest take_over;
  take_over.epoch = 2;
  ASSERT_TRUE(store_->Commit(take_over).ok());
  CommitRequest old_leader;
  old_leader.set = {{"a", "9"}};
  old_leader.epoch = 1;
  EXPECT_EQ(store_->Commit(old_leader).code(), StatusCode::kFenced);
  EXPECT_EQ(Get("a"), "1");
}

TEST_P(CheckpointContract, FencingIsCheckedBeforeExpectations) {
  CommitRequest r;
  r.set = {{"a", "1"}};
  r.epoch = 3;
  ASSERT_TRUE(store_->Commit(r).ok());
  CommitRequest both_wrong;
  both_wrong.set = {{"a", "2"}};
  both_wrong.expect = {{"a", "nope"}};
  both_wrong.epoch = 2;
  EXPECT_EQ(store_->Commit(both_wrong).code(), StatusCode::kFenced);
}

TEST_P(CheckpointContract, MalformedRequestsAreInvalid) {
  CommitRequest both;
  both.set = {{"a", "1"}};
  both.erase = {"a"};
  EXPECT_EQ(store_->Commit(both).code(), StatusCode::kInvalidArgument);
  CommitRequest empty_key;
  empty_key.set = {{"", "1"}};
  EXPECT_EQ(store_->Commit(empty_key).code(), StatusCode::kInvalidArgument);
  CommitRequest empty_erase;
  empty_erase.erase = {""};
  EXPECT_EQ(store_->Commit(empty_erase).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(All().empty());
}

TEST_P(CheckpointContract, BinaryAndUnicodeValuesRoundTrip) {
  std::string binary;
  for (int i = 0; i < 256; ++i) binary.push_back(static_cast<char>(i));
  const std::string unicode = "r\xc3\xa9play \xe2\x9c\x93 \xf0\x9f\x98\x80 \"q\" \\ \n";
  ASSERT_TRUE(store_->Commit(CheckpointMap{{"bin", binary}, {"uni", unicode}, {"e", ""}}).ok());
  EXPECT_EQ(Get("bin"), binary);
  EXPECT_EQ(Get("uni"), unicode);
  EXPECT_EQ(Get("e"), "");
  if (GetParam().durable) {
    Reopen();
    EXPECT_EQ(Get("bin"), binary);
    EXPECT_EQ(Get("uni"), unicode);
    EXPECT_EQ(Get("e"), "");
  }
}

TEST_P(CheckpointContract, ValuesAndEpochSurviveReopen) {
  if (!GetParam().durable) GTEST_SKIP() << "not durable";
  CommitRequest r;
  r.set = {{"pubsub:/data/AccountChangeEvent", "AAAAAAAB"}, {"k2", "7"}};
  r.epoch = 4;
  ASSERT_TRUE(store_->Commit(r).ok());
  CommitRequest gone;
  gone.erase = {"k2"};
  gone.epoch = 4;
  ASSERT_TRUE(store_->Commit(gone).ok());
  Reopen();
  EXPECT_EQ(All(), (CheckpointMap{{"pubsub:/data/AccountChangeEvent", "AAAAAAAB"}}));
  CommitRequest stale;
  stale.set = {{"k2", "8"}};
  stale.epoch = 3;
  EXPECT_EQ(store_->Commit(stale).code(), StatusCode::kFenced);
  stale.epoch = 4;
  EXPECT_TRUE(store_->Commit(stale).ok());
}

TEST_P(CheckpointContract, ConcurrentCompareAndSwapIncrementsLoseNothing) {
  ASSERT_TRUE(store_->Commit(CheckpointMap{{"n", "0"}}).ok());
  constexpr int kThreads = 4;
  constexpr int kPerThread = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int done = 0; done < kPerThread;) {
        auto cur = store_->Load("n");
        if (!cur.ok() || !cur->has_value()) {
          ++failures;
          return;
        }
        CommitRequest r;
        r.expect = {{"n", **cur}};
        r.set = {{"n", std::to_string(std::stoi(**cur) + 1)}};
        Status s = store_->Commit(r);
        if (s.ok()) {
          ++done;
        } else if (s.code() != StatusCode::kConflict) {
          ++failures;
          return;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Get("n"), std::to_string(kThreads * kPerThread));
}

std::unique_ptr<CheckpointStore> OpenFile(const std::string& dir) {
  auto r = FileCheckpointStore::Open(dir + "/state/checkpoints.json");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

std::unique_ptr<CheckpointStore> OpenSqlite(const std::string& dir) {
  auto r = SqliteCheckpointStore::Open(dir + "/state/checkpoints.db");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

INSTANTIATE_TEST_SUITE_P(
    Stores, CheckpointContract,
    ::testing::Values(StoreKind{"memory",
                                [](const std::string&) -> std::unique_ptr<CheckpointStore> {
                                  return std::make_unique<MemoryCheckpointStore>();
                                },
                                false},
                      StoreKind{"file", OpenFile, true}, StoreKind{"sqlite", OpenSqlite, true}),
    PrintName);

}  // namespace
}  // namespace forcepipe
