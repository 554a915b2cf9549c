#pragma once

// SyntheticSource: deterministic generated events for the demo, tests and
// benchmarks.
//
// Event i of key K is `<name>-k<K>-<i>` (i counts from 1 per key); its
// checkpoint is key `synthetic:<name>:k<K>`, value i. A restart resumes every
// key at its committed position + 1, so "everything up to the committed
// checkpoint arrived" can be checked event by event. With `max_events` the
// source produces exactly that many events in total (across restarts) and
// finishes.
//
// Threads: Run executes on the engine's source thread.

#include <cstdint>
#include <memory>
#include <string>

#include "config/registry.h"
#include "core/source.h"

namespace forcepipe {

struct SyntheticOptions {
  std::string name = "synthetic";
  double rate = 1000;  // events/s; 0 = as fast as the lane takes them
  int keys = 1;
  size_t entry_size = 200;            // approximate line bytes
  int64_t max_events = 0;             // 0 = unlimited
  int64_t checkpoint_only_every = 0;  // emit a checkpoint-only entry every N events; 0 = never
  int64_t base_time_ms = 0;           // >0: deterministic timestamps base + i ms; 0 = wall clock
  LaneKind lane = LaneKind::kStreaming;
};

class SyntheticSource final : public Source {
 public:
  explicit SyntheticSource(SyntheticOptions options);
  std::string_view kind() const override { return "synthetic"; }
  const std::string& name() const override { return options_.name; }
  LaneKind lane() const override { return options_.lane; }
  Status Run(SourceContext& ctx) override;
  // Keys synthetic:<name>:k0 .. k<keys-1>; values per ParsePosition.
  Status CheckPosition(std::string_view key, std::string_view value) const override;

  // A stored position: decimal digits only, 0 .. INT64_MAX-1 (so the next
  // sequence fits). kInvalidArgument naming `key` and the value otherwise
  // (empty, sign, spaces, overflow).
  static Result<int64_t> ParsePosition(std::string_view key, std::string_view value);

  // Events key `k` produces in total when max_events is set.
  int64_t QuotaForKey(int k) const;
  static std::string CheckpointKey(const std::string& name, int k);
  static std::string EventId(const std::string& name, int k, int64_t seq);

 private:
  Entry Make(int k, int64_t seq, int64_t now_ns) const;

  SyntheticOptions options_;
  LabelSetRef labels_;
  std::string pad_;
};

SourceFactory SyntheticSourceFactory();

}  // namespace forcepipe
