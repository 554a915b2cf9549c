#pragma once

// Change Data Capture events: the ChangeEventHeader of a decoded <Object>ChangeEvent and
// its field bitmaps turned into field names against the event's own schema.
//
//   auto map = cache.Get(event.schema_id(), *schema);        // once per schema id
//   FP_ASSIGN_OR_RETURN(CdcEvent e, DecodeChangeEvent(**map, *schema, value));
//
// Thread safety: free functions are reentrant; results are plain values.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "avro/schema.h"
#include "avro/value.h"
#include "core/entry.h"
#include "core/status.h"
#include "salesforce/cdc/field_bitmap.h"

namespace forcepipe::salesforce::cdc {

enum class ChangeType {
  kCreate,
  kUpdate,
  kDelete,
  kUndelete,
  kGapCreate,
  kGapUpdate,
  kGapDelete,
  kGapUndelete,
  kGapOverflow,
  kSnapshot,
  kUnknown,  // a symbol this build does not know; ChangeEventHeader::change_type_name has it
};

// "CREATE", ..., "GAP_OVERFLOW", "SNAPSHOT", "UNKNOWN".
std::string_view ChangeTypeName(ChangeType t);
ChangeType ParseChangeType(std::string_view symbol);
// GAP_CREATE, GAP_UPDATE, GAP_DELETE, GAP_UNDELETE and GAP_OVERFLOW.
bool IsGap(ChangeType t);

struct ChangeEventHeader {
  std::string entity_name;
  std::vector<std::string> record_ids;
  ChangeType change_type = ChangeType::kUnknown;
  std::string change_type_name;  // the enum symbol as sent
  std::string change_origin;
  std::string transaction_key;
  int32_t sequence_number = 0;
  int64_t commit_timestamp = 0;  // epoch ms
  int64_t commit_number = 0;     // exact int64 (never via double)
  std::string commit_user;
  // The raw bitmaps as sent.
  std::vector<std::string> nulled_fields;
  std::vector<std::string> diff_fields;
  std::vector<std::string> changed_fields;
};

struct CdcEvent {
  ChangeEventHeader header;
  // The bitmaps decoded to field names, in schema order.
  std::vector<std::string> changed_fields;
  std::vector<std::string> nulled_fields;
  std::vector<std::string> diff_fields;
  // One ref per record id, type = entityName.
  std::vector<ObjectRef> records;
  bool is_gap = false;       // GAP_* (incl. GAP_OVERFLOW): re-read the records
  bool is_overflow = false;  // GAP_OVERFLOW: too many changes in one transaction
};

// Reads the ChangeEventHeader (the `ChangeEventHeader` field) of `event`, a decoded value
// of `schema`. Wrong shapes (missing field, wrong value types, enum index out of range)
// are kInvalidArgument naming the field.
Result<ChangeEventHeader> ExtractHeader(const avro::Schema& schema, const avro::Value& event);

// Header + decoded bitmaps + record refs, using a precomputed map of `schema`.
Result<CdcEvent> DecodeChangeEvent(const FieldMap& map, const avro::Schema& schema,
                                   const avro::Value& event);

// Same, with the map taken from a process-wide cache keyed by the schema's id (computing
// the id costs a canonical-form pass per call: prefer the overload above on hot paths,
// with a FieldMapCache keyed by the envelope's schema_id).
Result<CdcEvent> DecodeChangeEvent(const avro::Schema& schema, const avro::Value& event);

}  // namespace forcepipe::salesforce::cdc
