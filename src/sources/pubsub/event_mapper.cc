#include "sources/pubsub/event_mapper.h"

#include <limits>

#include "core/base64.h"
#include "core/json_text.h"
#include "core/log.h"
#include "salesforce/cdc/change_event.h"

namespace forcepipe::pubsub {

bool ReplaceJsonArray(std::string* json, std::string_view key,
                      const std::vector<std::string>& names) {
  std::string needle = "\"" + std::string(key) + "\":[";
  size_t start = json->find(needle);
  if (start == std::string::npos) return false;
  size_t open = start + needle.size() - 1;
  // Find the closing bracket, skipping string contents.
  size_t i = open + 1;
  bool in_str = false;
  for (; i < json->size(); ++i) {
    char c = (*json)[i];
    if (in_str) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_str = false;
      }
    } else if (c == '"') {
      in_str = true;
    } else if (c == ']') {
      break;
    }
  }
  if (i >= json->size()) return false;
  std::string arr = "[";
  for (size_t k = 0; k < names.size(); ++k) {
    arr += k ? ",\"" : "\"";
    json::AppendEscaped(&arr, names[k]);
    arr += '"';
  }
  arr += ']';
  json->replace(open, i - open + 1, arr);
  return true;
}

EventMapper::EventMapper(std::string org_id, std::string org_name, std::string topic,
                         std::string checkpoint_key)
    : org_id_(std::move(org_id)),
      org_name_(std::move(org_name)),
      topic_(std::move(topic)),
      checkpoint_key_(std::move(checkpoint_key)) {}

LabelSetRef EventMapper::LabelsFor(const std::string& event_type) {
  auto it = labels_.find(event_type);
  if (it != labels_.end()) return it->second;
  auto set = std::make_shared<LabelSet>();
  set->push_back({"source", "pubsub"});
  set->push_back({"event_type", event_type});
  set->push_back({"sf_org_id", org_id_});
  if (!org_name_.empty()) set->push_back({"org", org_name_});
  labels_[event_type] = set;
  return set;
}

namespace {

// The long value of top-level field `index`, when present and non-null.
std::optional<int64_t> LongField(const avro::Value& rec, int index) {
  if (index < 0 || static_cast<size_t>(index) >= rec.children().size()) return std::nullopt;
  const avro::Value& v = rec.field(static_cast<size_t>(index)).unwrapped();
  if (v.type() == avro::Type::kLong || v.type() == avro::Type::kInt) return v.as_long();
  return std::nullopt;
}

std::string StringField(const avro::Value& rec, int index) {
  if (index < 0 || static_cast<size_t>(index) >= rec.children().size()) return {};
  const avro::Value& v = rec.field(static_cast<size_t>(index)).unwrapped();
  return v.type() == avro::Type::kString ? v.str() : std::string();
}

std::string JsonArray(const std::vector<std::string>& names) {
  std::string out = "[";
  for (size_t i = 0; i < names.size(); ++i) {
    out += i ? ",\"" : "\"";
    json::AppendEscaped(&out, names[i]);
    out += '"';
  }
  return out + "]";
}

}  // namespace

Status EventMapper::Map(const eventbus::v1::ConsumerEvent& ce, const CompiledSchema& schema,
                        Entry* out) {
  const auto& ev = ce.event();
  const std::string& payload = ev.payload();
  *out = Entry();
  FP_RETURN_IF_ERROR(schema.decoder->DecodeToJson(payload, &out->line));
  if (line_only_ && !schema.cdc) return Status::Ok();  // tail: the line is all it prints
  FP_RETURN_IF_ERROR(schema.decoder->DecodeInto(payload, &scratch_));

  const std::string& type_name = schema.schema->name();
  out->labels = LabelsFor(type_name);
  std::string replay = Base64Encode(ce.replay_id());
  auto& md = out->structured_metadata;
  md.reserve(9);
  md.push_back({std::string(meta::kReplayId), replay});
  md.push_back({std::string(meta::kEventId), ev.id()});
  md.push_back({std::string(meta::kSchemaId), schema.id});
  md.push_back({"topic", topic_});

  std::optional<int64_t> ts_ms = LongField(scratch_, schema.event_date);
  if (!ts_ms) ts_ms = LongField(scratch_, schema.created_date);
  std::string user = StringField(scratch_, schema.user_id);
  if (user.empty()) user = StringField(scratch_, schema.created_by_id);

  if (schema.cdc) {
    auto cdc = salesforce::cdc::DecodeChangeEvent(*schema.cdc, *schema.schema, scratch_);
    if (!cdc.ok()) return cdc.status();
    const auto& h = cdc->header;
    if (!ts_ms) ts_ms = h.commit_timestamp;
    md.push_back({std::string(meta::kChangeType),
                  std::string(salesforce::cdc::ChangeTypeName(h.change_type))});
    md.push_back({std::string(meta::kTransactionKey), h.transaction_key});
    md.push_back({std::string(meta::kCommitUser), h.commit_user});
    md.push_back({std::string(meta::kChangedFields), JsonArray(cdc->changed_fields)});
    if (user.empty()) user = h.commit_user;
    out->objects = std::move(cdc->records);
    ReplaceJsonArray(&out->line, "nulledFields", cdc->nulled_fields);
    ReplaceJsonArray(&out->line, "diffFields", cdc->diff_fields);
    ReplaceJsonArray(&out->line, "changedFields", cdc->changed_fields);
  } else if (!user.empty() && schema.user_id >= 0) {
    out->objects.push_back({"User", user});
  }
  if (!user.empty()) md.push_back({std::string(meta::kUserId), user});
  // An event time is input: one beyond what int64 nanoseconds hold (year 2262)
  // saturates instead of overflowing.
  int64_t ts_ns = 0;
  if (ts_ms && __builtin_mul_overflow(*ts_ms, int64_t{1'000'000}, &ts_ns)) {
    ts_ns = *ts_ms > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  out->timestamp_ns = ts_ns;
  out->checkpoint = {checkpoint_key_, std::move(replay)};
  return Status::Ok();
}

}  // namespace forcepipe::pubsub
