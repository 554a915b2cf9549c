#pragma once

// CommitTracker: applies checkpoint commits in production order.
//
// Batches are registered in sequence order when formed and completed in any
// order by the push workers. A completed batch's checkpoints are committed
// only once every earlier batch is finished, so a key's checkpoint never
// passes an entry that was not delivered. An abandoned batch (shutdown
// deadline, lost leadership) puts its keys behind a barrier: no later commit
// for those keys is applied in this process.
//
// Consecutive finished batches are merged into one store call. A failed store
// commit is kept and retried with the next one (positions only move forward).
//
// Thread safety: all methods are safe for concurrent use.

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include "core/checkpoint_store.h"
#include "core/entry.h"
#include "core/status.h"

namespace forcepipe {

class CommitTracker {
 public:
  // `store` may be null: the sink commits in its own transaction, and the
  // tracker only orders and reports. `epoch` supplies the fencing epoch for
  // each commit (may be null: unfenced).
  CommitTracker(CheckpointStore* store, std::function<Result<uint64_t>()> epoch = nullptr)
      : store_(store), epoch_(std::move(epoch)) {}

  // `observer` is called after each successful commit with the positions it
  // made durable, under the tracker's lock: it must not block or call back
  // into the tracker. Set it before the first Register.
  void SetObserver(std::function<void(const CheckpointMap&)> observer) {
    observer_ = std::move(observer);
  }

  // REQUIRES: sequences are registered in increasing order.
  void Register(uint64_t sequence, CheckpointMap checkpoints);

  // Marks a batch delivered (its checkpoints may commit) or abandoned.
  // Returns the status of any store commit this triggered.
  Status Complete(uint64_t sequence, bool delivered);

  // Retries a previously failed commit, if any.
  Status Flush();

  // Number of registered batches not yet finished.
  size_t pending() const;
  // Keys blocked by an abandoned batch.
  std::set<std::string> blocked_keys() const;
  // Every checkpoint committed so far (last value per key), for status pages.
  CheckpointMap committed() const;
  uint64_t commits() const;
  uint64_t commit_failures() const;

 private:
  struct Slot {
    CheckpointMap checkpoints;
    enum class State { kPending, kDelivered, kAbandoned } state = State::kPending;
  };
  Status CommitLocked();

  CheckpointStore* const store_;
  std::function<Result<uint64_t>()> epoch_;
  std::function<void(const CheckpointMap&)> observer_;
  mutable std::mutex mu_;
  std::map<uint64_t, Slot> slots_;
  std::set<std::string, std::less<>> blocked_;
  CheckpointMap unsaved_;  // ready to commit, not yet accepted by the store
  CheckpointMap committed_;
  uint64_t commits_ = 0;
  uint64_t commit_failures_ = 0;
};

}  // namespace forcepipe
