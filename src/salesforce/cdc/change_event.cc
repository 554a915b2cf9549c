#include "salesforce/cdc/change_event.h"

#include <array>

namespace forcepipe::salesforce::cdc {

namespace {

constexpr std::array<std::string_view, 11> kChangeTypeNames = {
    "CREATE",     "UPDATE",       "DELETE",       "UNDELETE", "GAP_CREATE", "GAP_UPDATE",
    "GAP_DELETE", "GAP_UNDELETE", "GAP_OVERFLOW", "SNAPSHOT", "UNKNOWN"};

Status Bad(std::string_view field, std::string_view what) {
  return Status::InvalidArgument("ChangeEventHeader." + std::string(field) + ": " +
                                 std::string(what));
}

Status WrongType(std::string_view field, std::string_view want, const avro::Value& v) {
  return Bad(field,
             "expected " + std::string(want) + ", got " + std::string(avro::TypeName(v.type())));
}

Status ReadString(const avro::Value& v, std::string_view field, std::string* out) {
  const avro::Value& u = v.unwrapped();
  if (u.type() == avro::Type::kNull) {
    out->clear();
    return Status::Ok();
  }
  if (u.type() != avro::Type::kString) return WrongType(field, "string", u);
  *out = u.str();
  return Status::Ok();
}

Status ReadStrings(const avro::Value& v, std::string_view field, std::vector<std::string>* out) {
  const avro::Value& u = v.unwrapped();
  out->clear();
  if (u.type() == avro::Type::kNull) return Status::Ok();
  if (u.type() != avro::Type::kArray) return WrongType(field, "array<string>", u);
  out->reserve(u.children().size());
  for (const avro::Value& item : u.children()) {
    const avro::Value& s = item.unwrapped();
    if (s.type() != avro::Type::kString) return WrongType(field, "array<string>", s);
    out->push_back(s.str());
  }
  return Status::Ok();
}

Status ReadLong(const avro::Value& v, std::string_view field, int64_t* out) {
  const avro::Value& u = v.unwrapped();
  if (u.type() == avro::Type::kLong || u.type() == avro::Type::kInt) {
    *out = u.as_long();
    return Status::Ok();
  }
  if (u.type() == avro::Type::kNull) {
    *out = 0;
    return Status::Ok();
  }
  return WrongType(field, "long", u);
}

}  // namespace

std::string_view ChangeTypeName(ChangeType t) { return kChangeTypeNames[static_cast<size_t>(t)]; }

ChangeType ParseChangeType(std::string_view symbol) {
  for (size_t i = 0; i + 1 < kChangeTypeNames.size(); ++i) {
    if (kChangeTypeNames[i] == symbol) return static_cast<ChangeType>(i);
  }
  return ChangeType::kUnknown;
}

bool IsGap(ChangeType t) {
  return t == ChangeType::kGapCreate || t == ChangeType::kGapUpdate ||
         t == ChangeType::kGapDelete || t == ChangeType::kGapUndelete ||
         t == ChangeType::kGapOverflow;
}

Result<ChangeEventHeader> ExtractHeader(const avro::Schema& schema, const avro::Value& event) {
  if (schema.type() != avro::Type::kRecord) {
    return Status::InvalidArgument("change event schema is not a record");
  }
  const avro::Value& ev = event.unwrapped();
  if (ev.type() != avro::Type::kRecord || ev.children().size() != schema.fields().size()) {
    return Status::InvalidArgument("change event value does not match its schema " +
                                   schema.full_name());
  }
  // The header is field 0 in every capture; look it up by name to be safe.
  const avro::Field* hf = schema.fields().empty() ? nullptr : &schema.fields()[0];
  if (!hf || hf->name != "ChangeEventHeader") hf = schema.FindField("ChangeEventHeader");
  if (!hf) {
    return Status::InvalidArgument(schema.full_name() + " has no ChangeEventHeader field");
  }
  const avro::Schema* hs = CompoundRecord(*hf->type);
  const avro::Value& hv = ev.field(hf->index).unwrapped();
  if (!hs || hv.type() != avro::Type::kRecord || hv.children().size() != hs->fields().size()) {
    return Status::InvalidArgument("ChangeEventHeader is not a record of its schema");
  }
  ChangeEventHeader h;
  bool have_entity = false, have_type = false;
  for (const avro::Field& f : hs->fields()) {
    const avro::Value& v = hv.field(f.index);
    const std::string& n = f.name;
    if (n == "entityName") {
      FP_RETURN_IF_ERROR(ReadString(v, n, &h.entity_name));
      have_entity = true;
    } else if (n == "recordIds") {
      FP_RETURN_IF_ERROR(ReadStrings(v, n, &h.record_ids));
    } else if (n == "changeType") {
      const avro::Value& u = v.unwrapped();
      const avro::Schema* es = f.type;
      if (es->type() == avro::Type::kUnion && u.type() == avro::Type::kEnum &&
          v.type() == avro::Type::kUnion && v.branch() < es->branches().size()) {
        es = es->branches()[v.branch()];
      }
      if (u.type() == avro::Type::kEnum && es->type() == avro::Type::kEnum) {
        if (u.enum_index() >= es->symbols().size()) return Bad(n, "enum index out of range");
        h.change_type_name = es->symbols()[u.enum_index()];
      } else if (u.type() == avro::Type::kString) {
        h.change_type_name = u.str();
      } else {
        return WrongType(n, "enum ChangeType", u);
      }
      h.change_type = ParseChangeType(h.change_type_name);
      have_type = true;
    } else if (n == "changeOrigin") {
      FP_RETURN_IF_ERROR(ReadString(v, n, &h.change_origin));
    } else if (n == "transactionKey") {
      FP_RETURN_IF_ERROR(ReadString(v, n, &h.transaction_key));
    } else if (n == "sequenceNumber") {
      int64_t seq = 0;
      FP_RETURN_IF_ERROR(ReadLong(v, n, &seq));
      h.sequence_number = static_cast<int32_t>(seq);
    } else if (n == "commitTimestamp") {
      FP_RETURN_IF_ERROR(ReadLong(v, n, &h.commit_timestamp));
    } else if (n == "commitNumber") {
      FP_RETURN_IF_ERROR(ReadLong(v, n, &h.commit_number));
    } else if (n == "commitUser") {
      FP_RETURN_IF_ERROR(ReadString(v, n, &h.commit_user));
    } else if (n == "nulledFields") {
      FP_RETURN_IF_ERROR(ReadStrings(v, n, &h.nulled_fields));
    } else if (n == "diffFields") {
      FP_RETURN_IF_ERROR(ReadStrings(v, n, &h.diff_fields));
    } else if (n == "changedFields") {
      FP_RETURN_IF_ERROR(ReadStrings(v, n, &h.changed_fields));
    }
  }
  if (!have_entity) return Bad("entityName", "missing");
  if (!have_type) return Bad("changeType", "missing");
  return h;
}

Result<CdcEvent> DecodeChangeEvent(const FieldMap& map, const avro::Schema& schema,
                                   const avro::Value& event) {
  CdcEvent e;
  FP_ASSIGN_OR_RETURN(e.header, ExtractHeader(schema, event));
  if (map.top_level_count() != schema.fields().size()) {
    return Status::InvalidArgument("CDC field map was built for another schema than " +
                                   schema.full_name());
  }
  FP_RETURN_IF_ERROR(map.DecodeNames(e.header.changed_fields, &e.changed_fields)
                         .WithContext("ChangeEventHeader.changedFields"));
  FP_RETURN_IF_ERROR(map.DecodeNames(e.header.nulled_fields, &e.nulled_fields)
                         .WithContext("ChangeEventHeader.nulledFields"));
  FP_RETURN_IF_ERROR(map.DecodeNames(e.header.diff_fields, &e.diff_fields)
                         .WithContext("ChangeEventHeader.diffFields"));
  e.records.reserve(e.header.record_ids.size());
  for (const std::string& id : e.header.record_ids) {
    e.records.push_back(ObjectRef{e.header.entity_name, id});
  }
  e.is_gap = IsGap(e.header.change_type);
  e.is_overflow = e.header.change_type == ChangeType::kGapOverflow;
  return e;
}

Result<CdcEvent> DecodeChangeEvent(const avro::Schema& schema, const avro::Value& event) {
  static auto* cache = new FieldMapCache();  // never destroyed (used at exit)
  FP_ASSIGN_OR_RETURN(auto map, cache->Get(avro::SchemaId(schema), schema));
  return DecodeChangeEvent(*map, schema, event);
}

}  // namespace forcepipe::salesforce::cdc
