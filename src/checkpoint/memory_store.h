#pragma once

// MemoryCheckpointStore: the in-memory CheckpointStore fake. Same contract as
// the durable stores (see checkpoint/commit_logic.h for the exact rules), plus
// fault injection and a log of every commit attempt for assertions in tests.
//
// Thread safety: every method is safe for concurrent use.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/checkpoint_store.h"
#include "core/clock.h"
#include "core/entry.h"
#include "core/status.h"

namespace forcepipe {

class MemoryCheckpointStore : public CheckpointStore {
 public:
  MemoryCheckpointStore() = default;
  explicit MemoryCheckpointStore(CheckpointMap initial, uint64_t epoch = 0)
      : values_(std::move(initial)), max_epoch_(epoch) {}

  std::string_view kind() const override { return "memory"; }
  Result<std::optional<std::string>> Load(std::string_view key) override;
  Result<CheckpointMap> LoadAll() override;
  using CheckpointStore::Commit;
  Status Commit(const CommitRequest& request) override;

  // The next `n` Commit calls return `status` (REQUIRES: not OK) and change
  // nothing. They are still recorded in commit_log().
  void FailNextCommit(Status status, int n = 1);
  // The next `n` Load or LoadAll calls return `status` (REQUIRES: not OK).
  void FailNextLoad(Status status, int n = 1);

  struct CommitRecord {
    CommitRequest request;
    Status status;  // what Commit returned
  };
  // Every Commit call so far, in call order, including failed ones.
  std::vector<CommitRecord> commit_log() const;
  // The requests that succeeded, in order.
  std::vector<CommitRequest> successful_commits() const;
  // Current contents and highest accepted epoch, bypassing fault injection.
  CheckpointMap Snapshot() const;
  uint64_t epoch() const;

  // Blocks until `pred(contents)` holds or `timeout` passes (real time).
  // Returns whether it held. Re-evaluated after every successful commit.
  bool WaitUntil(const std::function<bool(const CheckpointMap&)>& pred, Duration timeout) const;
  // WaitUntil(key holds exactly `value`).
  bool WaitForValue(std::string_view key, std::string_view value, Duration timeout) const;

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  CheckpointMap values_;
  uint64_t max_epoch_ = 0;
  Status commit_failure_;
  int commit_failures_left_ = 0;
  Status load_failure_;
  int load_failures_left_ = 0;
  std::vector<CommitRecord> log_;
};

}  // namespace forcepipe
