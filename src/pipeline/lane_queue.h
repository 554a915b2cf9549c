#pragma once

// LaneBuffer: the seam between a lane's producers and its batcher. LaneQueue
// (below) is the in-memory implementation; a durable spool (core/spool.h) is a
// second implementation of the same contract, not a change to Lane.
//
// Contract every implementation keeps:
// - Budget until commit: an entry counts against the budget (entries AND
//   bytes) from a successful Push until Release is called for it, which the
//   lane does when the entry's batch is committed or abandoned, not when it is
//   popped. So everything a lane holds (queued, batching, in flight, retrying)
//   is inside the budget, and a stalled sink blocks producers instead of
//   growing memory (or disk).
// - Push blocks (never drops) while the budget is full; an entry larger than
//   the whole byte budget is admitted alone when nothing is held. It returns
//   false, entry not taken, once `cancelled()` is true or the buffer is closed;
//   WakeProducers makes blocked producers re-check `cancelled()`.
// - PopUntil returns entries in Push order; it waits through the injected
//   Clock (so ManualClock drives it) until `deadline`, and returns nullopt on
//   timeout or when closed and empty. Close stops pushes; pops drain the rest.
// - An abandoned batch's entries are released, not re-queued: their positions
//   are not committed, so the source re-reads them after a restart.
//
// Thread safety: all methods are safe for concurrent use.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>

#include "core/clock.h"
#include "core/entry.h"

namespace forcepipe {

class LaneBuffer {
 public:
  virtual ~LaneBuffer() = default;
  // Moves `entry` in on success. REQUIRES: entry.byte_size is set.
  virtual bool Push(Entry& entry, const std::function<bool()>& cancelled) = 0;
  virtual std::optional<Entry> PopUntil(SteadyTime deadline) = 0;
  // Returns `entries`/`bytes` to the budget and wakes producers.
  virtual void Release(size_t entries, size_t bytes) = 0;
  virtual void Close() = 0;
  virtual void WakeProducers() = 0;
  virtual bool closed_and_empty() const = 0;
  virtual size_t queued() const = 0;
  virtual size_t held_entries() const = 0;
  virtual size_t held_bytes() const = 0;
  virtual size_t max_entries() const = 0;
  virtual size_t max_bytes() const = 0;
};

// The in-memory LaneBuffer. `clock` (not owned) times PopUntil.
class LaneQueue final : public LaneBuffer {
 public:
  LaneQueue(size_t max_entries, size_t max_bytes, const Clock* clock = Clock::Real())
      : max_entries_(max_entries), max_bytes_(max_bytes), clock_(clock) {}

  bool Push(Entry& entry, const std::function<bool()>& cancelled) override {
    std::unique_lock<std::mutex> l(mu_);
    not_full_.wait(l, [&] { return closed_ || cancelled() || HasRoomLocked(entry.byte_size); });
    if (closed_ || cancelled()) return false;
    held_entries_ += 1;
    held_bytes_ += entry.byte_size;
    queued_.push_back(std::move(entry));
    not_empty_.notify_one();
    return true;
  }

  std::optional<Entry> PopUntil(SteadyTime deadline) override {
    std::unique_lock<std::mutex> l(mu_);
    clock_->WaitUntil(l, not_empty_, deadline, [&] { return closed_ || !queued_.empty(); });
    if (queued_.empty()) return std::nullopt;
    Entry e = std::move(queued_.front());
    queued_.pop_front();
    return e;
  }

  void Release(size_t entries, size_t bytes) override {
    {
      std::lock_guard<std::mutex> l(mu_);
      held_entries_ -= entries;
      held_bytes_ -= bytes;
    }
    not_full_.notify_all();
  }

  void Close() override {
    {
      std::lock_guard<std::mutex> l(mu_);
      closed_ = true;
    }
    not_full_.notify_all();
    not_empty_.notify_all();
  }

  void WakeProducers() override {
    std::lock_guard<std::mutex> l(mu_);
    not_full_.notify_all();
  }

  bool closed_and_empty() const override {
    std::lock_guard<std::mutex> l(mu_);
    return closed_ && queued_.empty();
  }
  size_t queued() const override {
    std::lock_guard<std::mutex> l(mu_);
    return queued_.size();
  }
  size_t held_entries() const override {
    std::lock_guard<std::mutex> l(mu_);
    return held_entries_;
  }
  size_t held_bytes() const override {
    std::lock_guard<std::mutex> l(mu_);
    return held_bytes_;
  }
  size_t max_entries() const override { return max_entries_; }
  size_t max_bytes() const override { return max_bytes_; }

 private:
  bool HasRoomLocked(size_t bytes) const {
    if (held_entries_ == 0) return true;
    return held_entries_ < max_entries_ && held_bytes_ + bytes <= max_bytes_;
  }

  const size_t max_entries_;
  const size_t max_bytes_;
  const Clock* const clock_;
  mutable std::mutex mu_;
  std::condition_variable not_full_;
  std::condition_variable not_empty_;
  std::deque<Entry> queued_;
  size_t held_entries_ = 0;
  size_t held_bytes_ = 0;
  bool closed_ = false;
};

}  // namespace forcepipe
