// libFuzzer target for FileCheckpointStore::Parse (a checkpoint file on disk is
// input the process did not necessarily write: hand edits, other tools, damage).
// Parse must never crash; whatever it accepts must serialise and parse back to
// the same contents.

#include <cstdint>
#include <cstdlib>
#include <string>

#include "checkpoint/file_store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using forcepipe::FileCheckpointStore;
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto parsed = FileCheckpointStore::Parse(text, "fuzz.json");
  if (!parsed.ok()) return 0;
  auto again = FileCheckpointStore::Serialize(parsed->values, parsed->epoch);
  if (!again.ok()) {
    // Only keys that are not UTF-8 may be refused, and Parse cannot produce
    // those (JSON object keys are validated UTF-8).
    std::abort();
  }
  auto back = FileCheckpointStore::Parse(*again, "fuzz.json");
  if (!back.ok() || back->values != parsed->values || back->epoch != parsed->epoch) std::abort();
  return 0;
}
