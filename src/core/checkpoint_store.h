#pragma once

// CheckpointStore: durable resume positions.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/entry.h"
#include "core/status.h"

namespace forcepipe {

// One atomic change: all of it applies, or none of it.
struct CommitRequest {
  CheckpointMap set;               // keys to write
  std::vector<std::string> erase;  // keys to delete
  // Compare-and-swap preconditions: each key must hold exactly this value
  // (nullopt: be absent), else the commit fails with kConflict.
  std::map<std::string, std::optional<std::string>, std::less<>> expect;
  // Fencing: a commit whose epoch is lower than the highest epoch the store has
  // accepted fails with kFenced, so a paused former leader cannot move
  // checkpoints. 0 means unfenced (single instance).
  uint64_t epoch = 0;
};

// Thread safety: implementations are safe for concurrent use.
class CheckpointStore {
 public:
  virtual ~CheckpointStore() = default;
  virtual std::string_view kind() const = 0;

  virtual Result<std::optional<std::string>> Load(std::string_view key) = 0;
  virtual Result<CheckpointMap> LoadAll() = 0;
  virtual Status Commit(const CommitRequest& request) = 0;

  Status Commit(const CheckpointMap& values) {
    CommitRequest r;
    r.set = values;
    return Commit(r);
  }
};

}  // namespace forcepipe
