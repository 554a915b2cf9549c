#pragma once

// Engine: runs sources into lanes and lanes into one sink, and shuts down
// gracefully.
//
// Threads: one per source (Source::Run), plus each lane's batcher and push
// workers. Run() blocks the calling thread until the engine stops.
//
// Shutdown (RequestStop, or every source finished): sources are asked to stop
// and joined; lanes are closed and drained until `shutdown_grace` has passed
// since the stop began; what is still undelivered then is abandoned (its keys
// stay behind a commit barrier) and everything delivered is committed.

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/checkpoint_store.h"
#include "core/clock.h"
#include "core/coordinator.h"
#include "core/dead_letter.h"
#include "core/sink.h"
#include "core/source.h"
#include "pipeline/commit_tracker.h"
#include "pipeline/lane.h"

namespace forcepipe {

struct EngineOptions {
  Duration shutdown_grace = std::chrono::seconds(25);
  LaneOptions streaming;
  LaneOptions bulk;
  // JSON lines of permanently rejected entries; "" = none. A rejected entry's
  // position is committed only after its line is durable (DeadLetterWriter).
  std::string dead_letter_path;
};

struct SourceStatus {
  std::string name;
  std::string kind;
  LaneKind lane;
  std::atomic<uint64_t> emitted{0};
  std::atomic<int64_t> last_event_unix_ns{0};
  std::atomic<bool> running{false};
  std::string error;   // guarded by the engine's mutex
  std::string health;  // "" when healthy; guarded by the engine's mutex
};

class Engine {
 public:
  // `store` may be null when the sink provides its own (Sink::checkpoint_store()).
  Engine(EngineOptions options, std::vector<std::unique_ptr<Source>> sources,
         std::unique_ptr<Sink> sink, std::unique_ptr<CheckpointStore> store,
         const Clock* clock = Clock::Real(), Coordinator* coordinator = nullptr);
  ~Engine();

  // Starts the sink and runs until stopped. OK after a graceful stop (or all
  // sources finished); otherwise the first of: a source failure, a sink start
  // failure, a fatal sink answer or permanent commit failure (which stop the
  // run), or a failed final checkpoint commit (positions not durable).
  Status Run();

  // Thread-safe; may be called before or during Run.
  void RequestStop();

  CheckpointStore* checkpoint_store() const { return store_; }
  const Lane* lane(LaneKind kind) const;
  CheckpointMap committed() const;
  const std::vector<std::unique_ptr<SourceStatus>>& source_status() const { return source_status_; }
  // Component-specific metrics of every source (labelled `source`) and of the
  // sink (labelled `sink`).
  std::vector<MetricSample> ComponentMetrics() const;
  const Sink* sink() const { return sink_.get(); }
  // Error and health texts of source `i`, read under the engine's lock.
  std::pair<std::string, std::string> SourceProblems(size_t i) const;
  bool running() const { return running_.load(); }
  uint64_t dead_letters() const { return dead_letters_.written(); }
  uint64_t dead_letter_failures() const { return dead_letters_.failures(); }
  bool stop_requested() const { return stop_requested_.load(); }

 private:
  class Context;
  void RunSource(size_t index);
  Status OnDrop(const Entry& entry, const std::string& reason);
  // A lane cannot go on (fatal sink answer, permanent commit failure): record
  // `why` as the run's error and stop.
  void Fail(const Status& why);

  EngineOptions options_;
  std::vector<std::unique_ptr<Source>> sources_;
  std::unique_ptr<Sink> sink_;
  std::unique_ptr<CheckpointStore> owned_store_;
  CheckpointStore* store_;
  const Clock* clock_;
  Coordinator* coordinator_;
  // One tracker per lane: each lane orders its own batches, so a slow bulk
  // batch never holds back streaming commits (a source's keys live in one lane).
  std::unique_ptr<CommitTracker> streaming_tracker_;
  std::unique_ptr<CommitTracker> bulk_tracker_;
  std::unique_ptr<Lane> streaming_;
  std::unique_ptr<Lane> bulk_;
  std::vector<std::unique_ptr<SourceStatus>> source_status_;
  std::vector<std::unique_ptr<Context>> contexts_;
  std::vector<std::thread> threads_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> running_{false};
  std::atomic<bool> stop_requested_{false};
  size_t sources_finished_ = 0;
  Status first_error_;
  DeadLetterWriter dead_letters_;
};

}  // namespace forcepipe
