#pragma once

// Lane: one bounded queue -> one batcher -> up to N concurrent pushes -> ordered
// commits. The engine runs one lane per LaneKind (streaming, bulk) per sink.
//
// Threads: one batcher thread and `max_in_flight` push workers, all owned by
// the lane. Producers call Push from any thread.
//
// Lifecycle: Start -> Push* -> Close -> WaitDrained(deadline) -> [Abort] -> Join.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/checkpoint_store.h"
#include "core/clock.h"
#include "core/entry.h"
#include "core/histogram.h"
#include "core/sink.h"
#include "core/source.h"
#include "pipeline/backoff.h"
#include "pipeline/commit_tracker.h"
#include "pipeline/lane_queue.h"

namespace forcepipe {

struct LaneOptions {
  size_t queue_max_entries = 50'000;
  size_t queue_max_bytes = 64u << 20;
  size_t batch_max_entries = 1000;
  size_t batch_max_bytes = 1u << 20;
  Duration batch_interval = std::chrono::seconds(1);
  int max_in_flight = 1;
  BackoffPolicy retry;
  uint64_t seed = 1;  // jitter
};

// Counters a lane keeps; read by status and metrics. All monotonic except
// the gauges noted.
struct LaneStats {
  std::atomic<uint64_t> entries_in{0};
  std::atomic<uint64_t> entries_delivered{0};
  std::atomic<uint64_t> bytes_delivered{0};
  std::atomic<uint64_t> entries_dropped{0};                   // Permanent rejections, dead-lettered
  std::atomic<uint64_t> dead_letter_failures{0};              // failed DropHandler calls
  std::atomic<int64_t> dead_letter_failing_since_unix_ns{0};  // gauge: 0 when not failing
  std::atomic<uint64_t> batches_pushed{0};
  std::atomic<uint64_t> batches_abandoned{0};
  std::atomic<uint64_t> retries{0};
  std::atomic<uint64_t> commit_failures{0};
  std::atomic<int64_t> failing_since_unix_ns{0};  // gauge: 0 when the last push succeeded
  std::atomic<int64_t> last_commit_unix_ns{0};    // gauge
  std::atomic<uint64_t> commits{0};
  Histogram push_seconds{{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}};
  Histogram batch_entries{{1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000}};
};

// Called for each entry a sink rejected permanently (dead-lettering). An error
// means the entry is not yet safely recorded: the lane calls again with
// backoff (the batch, and every later commit of the lane, waits) until it
// succeeds or the lane is aborted (the batch is then abandoned, so its
// position is not committed and the entry is re-read after a restart).
using DropHandler = std::function<Status(const Entry& entry, const std::string& reason)>;
// Called (from a worker thread) when the lane cannot go on: the sink answered
// kFatal, or a checkpoint commit failed permanently (corrupt or foreign store,
// fenced, refused request). The batch is abandoned, so nothing after it
// commits; the handler should stop the pipeline with this status.
using FatalHandler = std::function<void(const Status& why)>;

class Lane {
 public:
  // `sink` and `clock` are not owned and must outlive the lane. `tracker`
  // decides commits. Every wait (batch interval, retry backoff, WaitDrained)
  // runs on `clock`, so a ManualClock drives them. `buffer` is the lane's
  // LaneBuffer (see lane_queue.h); null means an in-memory LaneQueue sized by
  // `options`.
  Lane(LaneKind kind, LaneOptions options, Sink* sink, CommitTracker* tracker, const Clock* clock,
       DropHandler on_drop = nullptr, std::unique_ptr<LaneBuffer> buffer = nullptr);
  ~Lane();

  // REQUIRES: called before Start.
  void SetFatalHandler(FatalHandler on_fatal) { on_fatal_ = std::move(on_fatal); }

  void Start();

  // Hands an entry to the lane; blocks while the lane's budget is full.
  // Returns false (entry not taken) once `cancelled()` is true or the lane is
  // closed.
  bool Push(Entry entry, const std::function<bool()>& cancelled);
  void WakeProducers() { queue_->WakeProducers(); }

  // No more entries: the batcher flushes what is queued and stops.
  void Close();
  // Waits until every batch is finished, or `deadline` on the lane's clock.
  // True when drained.
  bool WaitDrained(SteadyTime deadline);
  // Stops retrying: batches not yet delivered are abandoned. Pushes already in
  // the sink are waited for (sinks bound them with their own timeouts).
  void Abort();
  void Join();

  LaneKind kind() const { return kind_; }
  const LaneStats& stats() const { return stats_; }
  size_t queued_entries() const { return queue_->queued(); }
  size_t held_bytes() const { return queue_->held_bytes(); }
  size_t held_entries() const { return queue_->held_entries(); }
  const LaneOptions& options() const { return options_; }

 private:
  struct Work {
    Batch batch;
    size_t held_entries = 0;  // budget to release when finished (incl. checkpoint-only)
    size_t held_bytes = 0;
  };

  void BatcherLoop();
  void Dispatch(Work work);
  void WorkerLoop(int index);
  // Pushes with retries; true when delivered (wholly or with counted drops).
  bool Deliver(Batch& batch, Backoff& backoff);
  void Finish(const Work& work, bool delivered);

  const LaneKind kind_;
  const LaneOptions options_;
  Sink* const sink_;
  CommitTracker* const tracker_;
  const Clock* const clock_;
  DropHandler on_drop_;
  FatalHandler on_fatal_;
  const bool needs_empty_push_;  // transactional sink: checkpoint-only batches are pushed too

  std::unique_ptr<LaneBuffer> queue_;
  LaneStats stats_;

  std::mutex mu_;
  std::condition_variable work_cv_;   // work_ changed or closing
  std::condition_variable done_cv_;   // a batch finished
  std::condition_variable abort_cv_;  // wakes retry waits
  std::deque<Work> work_;
  int in_flight_ = 0;        // dispatched, not finished
  uint64_t unfinished_ = 0;  // formed, not finished
  bool batcher_done_ = false;
  bool aborted_ = false;
  uint64_t next_sequence_ = 1;

  std::thread batcher_;
  std::vector<std::thread> workers_;
};

}  // namespace forcepipe
