#include "pipeline/lane.h"

#include <algorithm>

#include "core/log.h"

namespace forcepipe {

Lane::Lane(LaneKind kind, LaneOptions options, Sink* sink, CommitTracker* tracker,
           const Clock* clock, DropHandler on_drop, std::unique_ptr<LaneBuffer> buffer)
    : kind_(kind),
      options_(options),
      sink_(sink),
      tracker_(tracker),
      clock_(clock),
      on_drop_(std::move(on_drop)),
      needs_empty_push_(sink->checkpoint_store() != nullptr),
      queue_(buffer ? std::move(buffer)
                    : std::make_unique<LaneQueue>(options.queue_max_entries,
                                                  options.queue_max_bytes, clock)) {}

Lane::~Lane() {
  Close();
  Abort();
  Join();
}

void Lane::Start() {
  batcher_ = std::thread([this] { BatcherLoop(); });
  int n = std::max(1, options_.max_in_flight);
  for (int i = 0; i < n; ++i) workers_.emplace_back([this, i] { WorkerLoop(i); });
}

bool Lane::Push(Entry entry, const std::function<bool()>& cancelled) {
  if (entry.byte_size == 0) entry.byte_size = entry.ComputeByteSize();
  if (!queue_->Push(entry, [&] { return cancelled && cancelled(); })) return false;
  stats_.entries_in.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void Lane::Close() { queue_->Close(); }

void Lane::BatcherLoop() {
  Work cur;
  SteadyTime deadline = SteadyTime::max();
  auto flush = [&] {
    if (cur.held_entries == 0) return;
    Dispatch(std::move(cur));
    cur = Work{};
    deadline = SteadyTime::max();
  };
  for (;;) {
    // The buffer is woken by pushes and Close; the batch interval is measured
    // on the lane's clock.
    std::optional<Entry> e = queue_->PopUntil(deadline);
    if (e) {
      if (cur.held_entries == 0) {
        deadline = clock_->SteadyNow() +
                   std::chrono::duration_cast<SteadyTime::duration>(options_.batch_interval);
      }
      cur.held_entries += 1;
      cur.held_bytes += e->byte_size;
      if (!e->checkpoint.key.empty())
        cur.batch.checkpoints[e->checkpoint.key] = e->checkpoint.value;
      if (!e->checkpoint_only) {
        cur.batch.bytes += e->byte_size;
        cur.batch.entries.push_back(std::move(*e));
      }
      if (cur.batch.entries.size() >= options_.batch_max_entries ||
          cur.batch.bytes >= options_.batch_max_bytes) {
        flush();
      }
      continue;
    }
    if (clock_->SteadyNow() >= deadline) flush();
    if (queue_->closed_and_empty()) {
      flush();
      break;
    }
  }
  std::lock_guard<std::mutex> l(mu_);
  batcher_done_ = true;
  work_cv_.notify_all();
  done_cv_.notify_all();
}

void Lane::Dispatch(Work work) {
  std::unique_lock<std::mutex> l(mu_);
  work.batch.sequence = next_sequence_++;
  tracker_->Register(work.batch.sequence, work.batch.checkpoints);
  ++unfinished_;
  if (work.batch.entries.empty() && !needs_empty_push_) {
    // Checkpoint-only: nothing to deliver; commits in order behind earlier batches.
    l.unlock();
    Finish(work, true);
    return;
  }
  // Bound pushes in flight: the batcher waits here, the queue fills, producers block.
  int limit = std::max(1, options_.max_in_flight);
  done_cv_.wait(l, [&] { return in_flight_ < limit || aborted_; });
  ++in_flight_;
  work_.push_back(std::move(work));
  work_cv_.notify_one();
}

void Lane::WorkerLoop(int index) {
  Backoff backoff(options_.retry, options_.seed * 7919 + static_cast<uint64_t>(index));
  for (;;) {
    Work w;
    {
      std::unique_lock<std::mutex> l(mu_);
      work_cv_.wait(l, [&] { return !work_.empty() || batcher_done_; });
      if (work_.empty()) return;
      w = std::move(work_.front());
      work_.pop_front();
    }
    bool delivered = Deliver(w.batch, backoff);
    {
      std::lock_guard<std::mutex> l(mu_);
      --in_flight_;
    }
    Finish(w, delivered);
  }
}

bool Lane::Deliver(Batch& batch, Backoff& backoff) {
  auto log = log::Get("pipeline");
  for (int attempt = 0;; ++attempt) {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (aborted_) return false;
    }
    auto t0 = std::chrono::steady_clock::now();
    PushOutcome out = sink_->Push(batch);
    stats_.push_seconds.Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    switch (out.kind) {
      case PushOutcome::Kind::kOk:
        stats_.batch_entries.Observe(static_cast<double>(batch.entries.size()));
        stats_.entries_delivered.fetch_add(batch.entries.size(), std::memory_order_relaxed);
        stats_.bytes_delivered.fetch_add(batch.bytes, std::memory_order_relaxed);
        stats_.batches_pushed.fetch_add(1, std::memory_order_relaxed);
        stats_.failing_since_unix_ns.store(0);
        return true;
      case PushOutcome::Kind::kPermanent: {
        stats_.batch_entries.Observe(static_cast<double>(batch.entries.size()));
        std::vector<bool> dropped(batch.entries.size(), false);
        size_t n = 0;
        for (const auto& r : out.rejected) {
          if (r.index >= batch.entries.size() || dropped[r.index]) continue;
          dropped[r.index] = true;
          ++n;
          const Entry& e = batch.entries[r.index];
          log->warn(
              "{} lane: sink {} rejected an entry permanently ({}); dropped, key {} position {}",
              LaneKindName(kind_), sink_->kind(), r.reason, e.checkpoint.key, e.checkpoint.value);
          if (!on_drop_) continue;
          // The position may only move past the entry once it is recorded.
          for (int dl_attempt = 0;; ++dl_attempt) {
            Status s = on_drop_(e, r.reason);
            if (s.ok()) break;
            stats_.dead_letter_failures.fetch_add(1, std::memory_order_relaxed);
            int64_t zero = 0;
            stats_.dead_letter_failing_since_unix_ns.compare_exchange_strong(
                zero, clock_->NowUnixNanos());
            Duration wait = backoff.Next(dl_attempt, Duration{0});
            if (dl_attempt == 0 || dl_attempt % 10 == 9) {
              log->error(
                  "{} lane: cannot dead-letter a rejected entry (key {} position {}), holding "
                  "its batch and retrying in {}ms (attempt {}): {}",
                  LaneKindName(kind_), e.checkpoint.key, e.checkpoint.value,
                  std::chrono::duration_cast<std::chrono::milliseconds>(wait).count(),
                  dl_attempt + 1, s.ToString());
            }
            std::unique_lock<std::mutex> l(mu_);
            clock_->WaitFor(l, abort_cv_, wait, [&] { return aborted_; });
            if (aborted_) return false;  // abandoned: not committed, re-read after restart
          }
          stats_.dead_letter_failing_since_unix_ns.store(0);
        }
        stats_.entries_dropped.fetch_add(n, std::memory_order_relaxed);
        stats_.entries_delivered.fetch_add(batch.entries.size() - n, std::memory_order_relaxed);
        stats_.batches_pushed.fetch_add(1, std::memory_order_relaxed);
        stats_.failing_since_unix_ns.store(0);
        return true;
      }
      case PushOutcome::Kind::kFatal: {
        Status why = Status::FailedPrecondition("sink " + std::string(sink_->kind()) +
                                                " cannot accept batches: " + out.reason);
        log->error("{} lane: {}; stopping without committing this batch", LaneKindName(kind_),
                   why.message());
        if (on_fatal_) on_fatal_(why);
        return false;
      }
      case PushOutcome::Kind::kRetryable: {
        int64_t zero = 0;
        stats_.failing_since_unix_ns.compare_exchange_strong(zero, clock_->NowUnixNanos());
        stats_.retries.fetch_add(1, std::memory_order_relaxed);
        Duration wait = backoff.Next(attempt, out.after);
        if (attempt == 0 || attempt % 10 == 9) {
          log->warn("{} lane: sink {} push failed, retrying in {}ms (attempt {}): {}",
                    LaneKindName(kind_), sink_->kind(),
                    std::chrono::duration_cast<std::chrono::milliseconds>(wait).count(),
                    attempt + 1, out.reason);
        }
        std::unique_lock<std::mutex> l(mu_);
        clock_->WaitFor(l, abort_cv_, wait, [&] { return aborted_; });
        break;
      }
    }
  }
}

void Lane::Finish(const Work& work, bool delivered) {
  if (!delivered) stats_.batches_abandoned.fetch_add(1, std::memory_order_relaxed);
  Status s = tracker_->Complete(work.batch.sequence, delivered);
  if (!s.ok()) {
    stats_.commit_failures.fetch_add(1, std::memory_order_relaxed);
    // A damaged or foreign store, lost leadership or a refused request never
    // heals by retrying with the next commit.
    const bool permanent =
        s.code() == StatusCode::kCorruption || s.code() == StatusCode::kFailedPrecondition ||
        s.code() == StatusCode::kFenced || s.code() == StatusCode::kInvalidArgument;
    log::Get("pipeline")
        ->error("{} lane: checkpoint commit failed{}: {}", LaneKindName(kind_),
                permanent ? " permanently; stopping" : " (will retry with the next)", s.ToString());
    if (permanent && on_fatal_) on_fatal_(s.WithContext("checkpoint commit"));
  } else if (!work.batch.checkpoints.empty()) {
    stats_.last_commit_unix_ns.store(clock_->NowUnixNanos());
    stats_.commits.fetch_add(1, std::memory_order_relaxed);
  }
  queue_->Release(work.held_entries, work.held_bytes);
  std::lock_guard<std::mutex> l(mu_);
  --unfinished_;
  done_cv_.notify_all();
}

bool Lane::WaitDrained(SteadyTime deadline) {
  std::unique_lock<std::mutex> l(mu_);
  return clock_->WaitUntil(l, done_cv_, deadline,
                           [&] { return batcher_done_ && unfinished_ == 0; });
}

void Lane::Abort() {
  std::lock_guard<std::mutex> l(mu_);
  aborted_ = true;
  abort_cv_.notify_all();
  done_cv_.notify_all();
  work_cv_.notify_all();
}

void Lane::Join() {
  if (batcher_.joinable()) batcher_.join();
  for (auto& t : workers_) {
    if (t.joinable()) t.join();
  }
  workers_.clear();
  // Batches dispatched but never taken by a worker (abort before pickup).
  std::deque<Work> rest;
  {
    std::lock_guard<std::mutex> l(mu_);
    rest.swap(work_);
  }
  for (auto& w : rest) Finish(w, false);
}

}  // namespace forcepipe
