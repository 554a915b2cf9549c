#pragma once

// Validation and application of a CommitRequest against an in-memory image of a
// store, shared by the memory and file stores so that both follow exactly the
// same contract (the SQLite store applies the same rules in SQL).
//
// Contract (core/checkpoint_store.h), in the order the checks run:
//   1. A request whose `set` or `erase` names an empty key, or that both sets and
//      erases one key, is kInvalidArgument.
//   2. Fencing: `epoch` lower than the highest epoch accepted so far is kFenced.
//      Epoch 0 is "unfenced": accepted while no commit has ever carried an epoch,
//      fenced once one has (a process without a coordinator must not move
//      checkpoints that a fenced leader owns).
//   3. Compare-and-swap: every `expect` entry must match (nullopt: absent), else
//      kConflict.
//   4. Apply: erase, then set; the highest epoch becomes max(old, epoch). A
//      request with no set and no erase still records its epoch, which is how a
//      new leader fences the old one before it commits anything.
// A failed check changes nothing.
//
// Thread safety: none; callers hold their own lock.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/checkpoint_store.h"
#include "core/entry.h"
#include "core/status.h"

namespace forcepipe::checkpoint {

// Checks 1-3 against `current` and `max_epoch`. `store` names the store in
// error messages (e.g. "checkpoint file /var/lib/x.json").
Status CheckCommit(const CommitRequest& request, const CheckpointMap& current, uint64_t max_epoch,
                   std::string_view store);

// Check 1 only (for stores that run checks 2-3 elsewhere, e.g. inside SQL).
Status CheckRequestShape(const CommitRequest& request);

// Step 4. REQUIRES: CheckCommit returned OK for the same inputs.
void ApplyCommit(const CommitRequest& request, CheckpointMap& current, uint64_t& max_epoch);

// A printable form of a possibly binary key for error messages: at most 200
// bytes, non-printable bytes as \xNN.
std::string PrintableKey(std::string_view key);

}  // namespace forcepipe::checkpoint
