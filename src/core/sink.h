#pragma once

// Sink: where batches go. The engine owns retries and commits; a sink only says
// what happened to one push.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/entry.h"
#include "core/metric.h"
#include "core/record_history.h"
#include "core/status.h"

namespace forcepipe {

class CheckpointStore;

// One entry a sink could never accept, by its index in Batch::entries.
struct Rejection {
  size_t index = 0;
  std::string reason;
};

// The outcome of Sink::Push.
//   kOk        every entry was delivered.
//   kRetryable nothing (new) was delivered; push the same batch again, not
//              before `after` when it is non-zero.
//   kPermanent every entry was delivered except those in `rejected`, which
//              never will be; the engine drops and counts exactly those.
//   kFatal     nothing was delivered and no retry can succeed (the sink's
//              store is damaged or not what it expects, e.g. a dropped
//              table): the engine commits nothing for the batch, stops the
//              pipeline and exits non-zero with `reason`.
struct PushOutcome {
  enum class Kind { kOk, kRetryable, kPermanent, kFatal };
  Kind kind = Kind::kOk;
  Duration after{0};
  std::string reason;               // why, for kRetryable (logged and counted)
  std::vector<Rejection> rejected;  // for kPermanent

  static PushOutcome Ok() { return {}; }
  static PushOutcome Retryable(std::string why, Duration after = Duration{0}) {
    PushOutcome o;
    o.kind = Kind::kRetryable;
    o.reason = std::move(why);
    o.after = after;
    return o;
  }
  static PushOutcome Fatal(std::string why) {
    PushOutcome o;
    o.kind = Kind::kFatal;
    o.reason = std::move(why);
    return o;
  }
  static PushOutcome Permanent(std::vector<Rejection> rejected) {
    PushOutcome o;
    o.kind = Kind::kPermanent;
    o.rejected = std::move(rejected);
    return o;
  }
};

// Thread safety: every lane of the engine pushes to this one sink, each from up
// to max_in_flight() worker threads, so Push may run concurrently up to
// (lanes x max_in_flight()) times (once per lane when checkpoint_store() is
// non-null); Start and Stop are called once each from the engine's thread.
class Sink {
 public:
  virtual ~Sink() = default;

  // The registered kind, e.g. "jsonl", "loki", "sql".
  virtual std::string_view kind() const = 0;

  // Connects and validates. A non-OK status is a startup error.
  virtual Status Start() { return Status::Ok(); }

  // Delivers `batch` (never empty of entries unless checkpoint_store() is
  // non-null, in which case an entry-less batch carries checkpoints only).
  virtual PushOutcome Push(const Batch& batch) = 0;

  // Flushes and releases resources. No Push follows.
  virtual void Stop() {}

  // The most concurrent Push calls this sink supports.
  virtual int max_in_flight() const { return 1; }

  // A transactional sink returns the store it commits Batch::checkpoints to in
  // the same transaction as the entries (effectively-once). The engine then
  // does not commit those checkpoints separately. Owned by the sink.
  virtual CheckpointStore* checkpoint_store() { return nullptr; }

  // Current sink-specific metrics; called from the metrics thread.
  virtual std::vector<MetricSample> Metrics() const { return {}; }

  // Optional capability: a sink that can answer a record's history returns it
  // (owned by the sink, valid until the sink is destroyed); others nullptr.
  virtual RecordHistory* record_history() const { return nullptr; }
};

}  // namespace forcepipe
