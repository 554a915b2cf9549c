#pragma once

// Spool: an optional durable buffer between a lane and its sink, so a source
// keeps pulling while a sink is down (longer than Salesforce's 72 h retention).
// Not implemented yet; the seam is fixed here so lanes can grow into it.

#include <cstdint>
#include <vector>

#include "core/entry.h"
#include "core/status.h"

namespace forcepipe {

class Spool {
 public:
  virtual ~Spool() = default;
  // Appends entries durably; returns the offset of the first. Blocks (never
  // drops) when the spool is full.
  virtual Result<uint64_t> Append(const std::vector<Entry>& entries) = 0;
  // Reads up to `max` entries starting at `offset`.
  virtual Result<std::vector<Entry>> ReadFrom(uint64_t offset, size_t max) = 0;
  // Everything before `offset` may be discarded.
  virtual Status AcknowledgeThrough(uint64_t offset) = 0;
};

}  // namespace forcepipe
