#pragma once

// A sink capability: a sink that keeps every event it wrote can answer "what
// happened to this record". The status server serves it as
// GET /api/v1/records/{id}/events when the configured sink offers it
// (Sink::record_history()), so the composition root never names the sink.

#include <string>

#include "core/status.h"

namespace forcepipe {

// Thread safety: RecordEventsJson may be called from several server threads at
// once, concurrently with Push, once the sink has started.
class RecordHistory {
 public:
  virtual ~RecordHistory() = default;

  // The events that touched `record_id`, newest first, at most `limit` (1 to
  // 1000); `type` (may be empty) keeps only that event or change type. The
  // body is the JSON document `forcepipe history --json` prints. An error is
  // a store failure (the server answers 503 with its redacted message).
  virtual Result<std::string> RecordEventsJson(const std::string& record_id, int limit,
                                               const std::string& type) const = 0;
};

}  // namespace forcepipe
