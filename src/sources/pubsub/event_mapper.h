#pragma once

// EventMapper: one Pub/Sub ConsumerEvent -> one Entry, decoded once.
//
//   labels    source=pubsub, event_type=<schema record name, e.g. AccountChangeEvent>,
//             sf_org_id, and org when configured
//   metadata  replay_id (base64), event_id, schema_id, topic, and for change
//             events change_type, transaction_key, commit_user, changed_fields
//             (JSON array of names); user_id where present
//   objects   CDC record ids (type = entityName); the user of an RTEM event
//   line      the event as JSON, with changedFields/nulledFields/diffFields
//             bitmaps replaced by field names
//   timestamp EventDate, else CreatedDate, else commitTimestamp (ms -> ns)
//
// Thread safety: not thread-safe (it reuses decode buffers); one per stream.

#include <map>
#include <string>
#include <string_view>

#include "avro/value.h"
#include "core/base64.h"
#include "core/entry.h"
#include "core/status.h"
#include "salesforce/proto/pubsub_api.pb.h"
#include "sources/pubsub/pubsub_client.h"

namespace forcepipe::pubsub {

class EventMapper {
 public:
  EventMapper(std::string org_id, std::string org_name, std::string topic,
              std::string checkpoint_key);

  // Fills *out (replacing its contents). Errors: the payload does not decode
  // with `schema`, or a change event's header or bitmaps are malformed.
  Status Map(const eventbus::v1::ConsumerEvent& event, const CompiledSchema& schema, Entry* out);

  const std::string& checkpoint_key() const { return checkpoint_key_; }

  // Only the line is needed (`forcepipe tail`): events that are not change
  // events are decoded once, straight to JSON, with no labels, metadata or
  // checkpoint (change events still get everything: their bitmaps are
  // expanded in the line).
  void set_line_only(bool v) { line_only_ = v; }

 private:
  LabelSetRef LabelsFor(const std::string& event_type);

  std::string org_id_;
  std::string org_name_;
  std::string topic_;
  std::string checkpoint_key_;
  bool line_only_ = false;
  avro::Value scratch_;
  std::map<std::string, LabelSetRef> labels_;
};

// Replaces the first JSON array value of key `key` in `json` (e.g. the
// header's "changedFields") with `names` rendered as a JSON array. Returns
// false when the key is not present.
bool ReplaceJsonArray(std::string* json, std::string_view key,
                      const std::vector<std::string>& names);

}  // namespace forcepipe::pubsub
