#pragma once

// In-memory fakes of the seams, with fault injection, for unit tests of one
// component (style.md: fakes over mocks). Integration tests use real parts.

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/checkpoint_store.h"
#include "core/clock.h"
#include "core/sink.h"
#include "core/source.h"

namespace forcepipe::testing {

// Waits until `pred` is true or `timeout` passes; returns pred(). Polls with a
// short condition-free wait: use for cross-thread state that has no cv.
bool WaitUntil(const std::function<bool()>& pred, Duration timeout = std::chrono::seconds(30));

// A source that emits a scripted list of entries, then finishes (or waits for
// stop when `hold_open`).
class ScriptedSource final : public Source {
 public:
  ScriptedSource(std::string name, std::vector<Entry> script, LaneKind lane = LaneKind::kStreaming,
                 bool hold_open = false)
      : name_(std::move(name)), script_(std::move(script)), lane_(lane), hold_open_(hold_open) {}
  std::string_view kind() const override { return "scripted"; }
  const std::string& name() const override { return name_; }
  LaneKind lane() const override { return lane_; }
  Status Run(SourceContext& ctx) override;
  // How many entries were accepted by the lane.
  size_t emitted() const { return emitted_.load(); }

 private:
  std::string name_;
  std::vector<Entry> script_;
  LaneKind lane_;
  bool hold_open_;
  std::atomic<size_t> emitted_{0};
};

// A sink that records what it was given, with scripted failures.
class CollectingSink final : public Sink {
 public:
  enum class Fail { kRetryable, kPermanentFirst, kPermanentAll };

  std::string_view kind() const override { return "collecting"; }
  PushOutcome Push(const Batch& batch) override;
  int max_in_flight() const override { return max_in_flight_; }
  void set_max_in_flight(int n) { max_in_flight_ = n; }

  // The next `n` pushes fail this way. kPermanentFirst rejects the batch's
  // first entry and delivers the rest.
  void FailNextPush(Fail how, int n = 1, Duration after = Duration{0});
  // Called on every push, before the outcome is decided (may block, e.g. to
  // stall the sink, or return a custom outcome).
  void SetHook(std::function<std::optional<PushOutcome>(const Batch&)> hook);

  // Entries delivered (accepted), in delivery order.
  std::vector<Entry> delivered() const;
  size_t delivered_count() const;
  size_t pushes() const { return pushes_.load(); }
  std::vector<size_t> batch_sizes() const;

 private:
  mutable std::mutex mu_;
  std::deque<std::pair<Fail, Duration>> failures_;
  std::function<std::optional<PushOutcome>(const Batch&)> hook_;
  std::vector<Entry> delivered_;
  std::vector<size_t> batch_sizes_;
  std::atomic<size_t> pushes_{0};
  int max_in_flight_ = 4;
};

// Forwarders, so a test can hand the engine ownership of a sink or store and
// still inspect the original. Not owning: the original must outlive them.
class SinkRef final : public Sink {
 public:
  explicit SinkRef(Sink* inner) : inner_(inner) {}
  std::string_view kind() const override { return inner_->kind(); }
  Status Start() override { return inner_->Start(); }
  PushOutcome Push(const Batch& b) override { return inner_->Push(b); }
  void Stop() override { inner_->Stop(); }
  int max_in_flight() const override { return inner_->max_in_flight(); }
  CheckpointStore* checkpoint_store() override { return inner_->checkpoint_store(); }
  std::vector<MetricSample> Metrics() const override { return inner_->Metrics(); }

 private:
  Sink* inner_;
};

class StoreRef final : public CheckpointStore {
 public:
  explicit StoreRef(CheckpointStore* inner) : inner_(inner) {}
  std::string_view kind() const override { return inner_->kind(); }
  Result<std::optional<std::string>> Load(std::string_view k) override { return inner_->Load(k); }
  Result<CheckpointMap> LoadAll() override { return inner_->LoadAll(); }
  Status Commit(const CommitRequest& r) override { return inner_->Commit(r); }

 private:
  CheckpointStore* inner_;
};

// The in-memory checkpoint store with fault injection is checkpoint/memory_store.h
// (MemoryCheckpointStore: FailNextCommit, commit log, Snapshot).

// Entry helpers.
Entry MakeEntry(const std::string& key, const std::string& value, const std::string& line);
Entry MakeCheckpointOnly(const std::string& key, const std::string& value);

}  // namespace forcepipe::testing
