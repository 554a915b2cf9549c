#pragma once

// The data model every source produces and every sink consumes.
// Decode once at the source: sinks never re-parse Avro or CSV.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace forcepipe {

// One resumable stream position. `key` names the stream
// (e.g. "pubsub:acme:/data/AccountChangeEvent"); `value` is opaque to everyone
// but the source that wrote it.
struct CheckpointToken {
  std::string key;
  std::string value;

  bool operator==(const CheckpointToken&) const = default;
};

// Last value per key. Ordered so that serialisations are deterministic.
using CheckpointMap = std::map<std::string, std::string, std::less<>>;

struct Label {
  std::string name;
  std::string value;

  bool operator==(const Label&) const = default;
};

// A low-cardinality label set (job, source, event_type, sf_org_id, ...). Sources
// build one per stream and share it between all of its entries, so an entry
// costs one reference count instead of a vector of strings.
using LabelSet = std::vector<Label>;
using LabelSetRef = std::shared_ptr<const LabelSet>;

// A Salesforce record an event touched (CDC recordIds, EventLogFile user, ...).
struct ObjectRef {
  std::string type;  // e.g. "Account"
  std::string id;    // e.g. "001..."

  bool operator==(const ObjectRef&) const = default;
};

// Well-known structured-metadata names. Sinks that need an event's identity or
// CDC attributes (the SQL store) read them by these names.
namespace meta {
inline constexpr std::string_view kEventId = "event_id";    // Salesforce event UUID
inline constexpr std::string_view kReplayId = "replay_id";  // base64 of the replay id
inline constexpr std::string_view kSchemaId = "schema_id";
inline constexpr std::string_view kChangeType = "change_type";  // CREATE, UPDATE, GAP_*, ...
inline constexpr std::string_view kTransactionKey = "transaction_key";
inline constexpr std::string_view kCommitUser = "commit_user";
inline constexpr std::string_view kChangedFields = "changed_fields";  // JSON array of names
inline constexpr std::string_view kUserId = "user_id";
}  // namespace meta

// One event as every sink sees it.
struct Entry {
  int64_t timestamp_ns = 0;  // event time, UTC
  LabelSetRef labels;        // may be null: no labels
  std::string line;          // the event, usually a JSON object
  std::vector<Label> structured_metadata;
  std::vector<ObjectRef> objects;
  CheckpointToken checkpoint;  // position after this entry
  // A position with no payload (a keepalive's latest_replay_id, a filtered
  // event). Never given to a sink; committed only after every real entry
  // ahead of it on the same key was delivered.
  bool checkpoint_only = false;

  // Bytes this entry holds, for queue budgets. Computed once (ComputeByteSize)
  // when the entry enters a lane.
  size_t byte_size = 0;

  // Returns the value of structured-metadata `name`, or "" when absent.
  std::string_view Metadata(std::string_view name) const;
  // Label value, or "" when absent.
  std::string_view LabelValue(std::string_view name) const;
  size_t ComputeByteSize() const;
};

// What one Sink::Push carries: real entries only, in production order.
// `checkpoints` is the last position per key this batch completes (including
// checkpoint-only entries that rode along); a transactional sink writes them in
// the same transaction as the entries, other sinks ignore them.
struct Batch {
  uint64_t sequence = 0;  // production order within a lane
  std::vector<Entry> entries;
  CheckpointMap checkpoints;
  size_t bytes = 0;  // sum of entries' byte_size
};

}  // namespace forcepipe
