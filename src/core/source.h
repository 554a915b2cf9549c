#pragma once

// Source: produces Entries into its lane until stopped, resuming from its
// checkpoint keys.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/entry.h"
#include "core/metric.h"
#include "core/status.h"

namespace forcepipe {

// Streaming (Pub/Sub: latency matters) or bulk (polling, EventLogFile, ApexLog:
// volume matters). Each lane has its own queue so a backfill never delays live
// events.
enum class LaneKind { kStreaming, kBulk };

std::string_view LaneKindName(LaneKind lane);

// What the engine gives a running source. Thread safety: all methods may be
// called from the source's threads concurrently.
class SourceContext {
 public:
  virtual ~SourceContext() = default;

  // Hands `entry` to the lane. Blocks while the lane is full (backpressure).
  // Returns false, without taking the entry, once the source is stopping.
  virtual bool Emit(Entry entry) = 0;

  // True once the source was asked to stop.
  virtual bool stopping() const = 0;

  // Waits up to `d` or until stopping. Returns false when stopping.
  virtual bool WaitFor(Duration d) = 0;

  // The committed position for `key`, or nullopt when none.
  virtual Result<std::optional<std::string>> LoadCheckpoint(std::string_view key) = 0;

  virtual const Clock& clock() const = 0;
  // Names the checkpoint store for messages, e.g. "sqlite checkpoint store".
  virtual std::string checkpoint_store_name() const { return "checkpoint store"; }

  // Reports a problem that makes the pipeline not ready (e.g. "auth failing
  // for org acme: invalid_grant"), or "" once healthy again. Shown on /readyz
  // and /status.
  virtual void SetHealth(std::string_view problem) {}
};

// Lifecycle: the engine calls Run once on a thread of its own; Run returns when
// the source is finished (a finite source) or ctx.stopping() becomes true. Stop
// may be called from another thread to interrupt blocking I/O.
class Source {
 public:
  virtual ~Source() = default;
  virtual std::string_view kind() const = 0;
  virtual const std::string& name() const = 0;
  virtual LaneKind lane() const = 0;
  virtual Status Run(SourceContext& ctx) = 0;
  virtual void Stop() {}
  // Current source-specific metrics; called from the metrics thread.
  virtual std::vector<MetricSample> Metrics() const { return {}; }
  // Called by the engine after positions in this source's lane are durably
  // committed (the sink has everything up to them), with every key of that
  // commit; a source picks out its own keys. Lets a source acknowledge
  // upstream only what is safe (e.g. Pub/Sub ManagedSubscribe commits).
  // Called on a lane worker thread: must not block.
  virtual void OnCommitted(const CheckpointMap& committed) {}

  // Whether `key` is one of this source's checkpoint keys and `value` a
  // position it can resume from (used by `forcepipe state set` before writing
  // anything). Ok; kNotFound when the key is not this source's;
  // kInvalidArgument, naming the key and the value, when the value cannot be
  // parsed. The default owns no key.
  virtual Status CheckPosition(std::string_view key, std::string_view value) const {
    return Status::NotFound("source " + name() + " keeps no checkpoint under " + std::string(key));
  }
};

}  // namespace forcepipe
