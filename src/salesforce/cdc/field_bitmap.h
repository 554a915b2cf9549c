#pragma once

// Decoding of Change Data Capture field bitmaps (ChangeEventHeader.changedFields,
// nulledFields, diffFields) into field names, against the event's OWN schema.
//
// Element forms (Salesforce CDC message structure; spec-salesforce-rest.md §6):
//   "0x<hex>"      big-endian hex; bit i (LSB = 0) marks top-level field i of the event
//                  record (the ChangeEventHeader is field 0). "0x650004E0" -> fields
//                  5, 6, 7, 10, 24, 26, 29, 30.
//   "<P>-0x<hex>"  bit j marks field j of the record inside top-level field P (after
//                  unwrapping ["null", record] or Account.Name's ["null","string",record]);
//                  named "<Parent>.<Child>". Only the nested names are produced.
// Hex digits may be upper or lower case, the prefix "0x" or "0X", and the digit count odd.
// A bit beyond the record's field count, a non-compound parent, an empty or non-hex digit
// string, or any other malformed element is kInvalidArgument (never a crash).
//
// Names come out in schema order (by top-level position; a parent's nested fields by
// their own position, after the parent itself), without duplicates.
//
// Thread safety: a FieldMap is immutable after Build(); share it freely. FieldMapCache
// is safe for concurrent use.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "avro/schema.h"
#include "core/status.h"

namespace forcepipe::salesforce::cdc {

class FieldMap {
 public:
  // A decoded field: top-level index, and child index + 1 for nested fields (0 = none).
  struct FieldRef {
    uint32_t top;
    uint32_t child_plus_one;
    bool operator==(const FieldRef&) const = default;
  };

  // Precomputes names for `schema` (a record; typically <Object>ChangeEvent).
  static Result<std::shared_ptr<const FieldMap>> Build(const avro::Schema& schema);

  // Appends the referenced fields (sorted, deduplicated over all `elements`) to *out.
  // On error *out is left as it was.
  Status DecodeRefs(const std::vector<std::string>& elements, std::vector<FieldRef>* out) const;

  // Same as DecodeRefs, as names ("BillingAddress.City"). Replaces *out.
  Status DecodeNames(const std::vector<std::string>& elements, std::vector<std::string>* out) const;

  // The name of a ref returned by DecodeRefs. REQUIRES: a valid ref for this map.
  const std::string& Name(FieldRef ref) const {
    return ref.child_plus_one == 0 ? top_[ref.top] : nested_[ref.top][ref.child_plus_one - 1];
  }

  size_t top_level_count() const { return top_.size(); }
  // Nested names of top-level field `top` (empty when it is not a compound field).
  const std::vector<std::string>& nested(size_t top) const { return nested_[top]; }

 private:
  FieldMap() = default;
  Status DecodeOne(std::string_view element, std::vector<FieldRef>* out) const;

  std::vector<std::string> top_;                  // field names by position
  std::vector<std::vector<std::string>> nested_;  // "Parent.Child" by parent position
};

// FieldMaps keyed by Salesforce schema id, built once per id (concurrent callers for a new
// id may both build; one result wins, both are equal).
class FieldMapCache {
 public:
  // The map for `schema_id`, building it from `schema` the first time.
  Result<std::shared_ptr<const FieldMap>> Get(const std::string& schema_id,
                                              const avro::Schema& schema);
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const FieldMap>> maps_;  // GUARDED_BY(mu_)
};

// The compound record inside a field type: the record itself, or the single record branch
// of a union. nullptr otherwise.
const avro::Schema* CompoundRecord(const avro::Schema& type);

}  // namespace forcepipe::salesforce::cdc
