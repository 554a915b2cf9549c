#pragma once

// LaneQueue: the one bounded buffer of a lane, limited by entry count AND bytes.
//
// Accounting: an entry counts against the budget from Push until Release is
// called for it — which the lane does when the entry's batch is committed or
// abandoned, not when it is popped. So everything a lane holds (queued,
// batching, in flight, retrying) is inside the budget, and a stalled sink
// blocks producers instead of growing memory.
//
// Thread safety: all methods are safe for concurrent use.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>

#include "core/clock.h"
#include "core/entry.h"

namespace forcepipe {

class LaneQueue {
 public:
  LaneQueue(size_t max_entries, size_t max_bytes)
      : max_entries_(max_entries), max_bytes_(max_bytes) {}

  // Blocks while the budget is full. An entry larger than the whole byte budget
  // is admitted alone when the lane holds nothing (so it cannot wedge the lane).
  // Returns false (entry not taken) when `cancelled()` turns true or the queue
  // is closed. REQUIRES: entry.byte_size is set.
  template <typename Pred>
  bool Push(Entry& entry, Pred cancelled) {
    std::unique_lock<std::mutex> l(mu_);
    not_full_.wait(l, [&] { return closed_ || cancelled() || HasRoomLocked(entry.byte_size); });
    if (closed_ || cancelled()) return false;
    held_entries_ += 1;
    held_bytes_ += entry.byte_size;
    queued_.push_back(std::move(entry));
    not_empty_.notify_one();
    return true;
  }

  // Pops one entry, waiting until `deadline` at most. nullopt on timeout, or
  // when closed and empty.
  std::optional<Entry> PopUntil(SteadyTime deadline) {
    std::unique_lock<std::mutex> l(mu_);
    not_empty_.wait_until(l, deadline, [&] { return closed_ || !queued_.empty(); });
    if (queued_.empty()) return std::nullopt;
    Entry e = std::move(queued_.front());
    queued_.pop_front();
    return e;
  }

  // Returns `entries`/`bytes` to the budget and wakes producers.
  void Release(size_t entries, size_t bytes) {
    {
      std::lock_guard<std::mutex> l(mu_);
      held_entries_ -= entries;
      held_bytes_ -= bytes;
    }
    not_full_.notify_all();
  }

  // No more pushes; pops drain what is queued.
  void Close() {
    {
      std::lock_guard<std::mutex> l(mu_);
      closed_ = true;
    }
    not_full_.notify_all();
    not_empty_.notify_all();
  }

  // Wakes blocked producers so they re-check their cancel predicate.
  void WakeProducers() {
    std::lock_guard<std::mutex> l(mu_);
    not_full_.notify_all();
  }

  bool closed_and_empty() const {
    std::lock_guard<std::mutex> l(mu_);
    return closed_ && queued_.empty();
  }
  size_t queued() const {
    std::lock_guard<std::mutex> l(mu_);
    return queued_.size();
  }
  size_t held_entries() const {
    std::lock_guard<std::mutex> l(mu_);
    return held_entries_;
  }
  size_t held_bytes() const {
    std::lock_guard<std::mutex> l(mu_);
    return held_bytes_;
  }
  size_t max_entries() const { return max_entries_; }
  size_t max_bytes() const { return max_bytes_; }

 private:
  bool HasRoomLocked(size_t bytes) const {
    if (held_entries_ == 0) return true;
    return held_entries_ < max_entries_ && held_bytes_ + bytes <= max_bytes_;
  }

  const size_t max_entries_;
  const size_t max_bytes_;
  mutable std::mutex mu_;
  std::condition_variable not_full_;
  std::condition_variable not_empty_;
  std::deque<Entry> queued_;
  size_t held_entries_ = 0;
  size_t held_bytes_ = 0;
  bool closed_ = false;
};

}  // namespace forcepipe
