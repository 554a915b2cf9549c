#pragma once

// Avro schemas: parsing from JSON, inspection, Parsing Canonical Form and the
// Salesforce schema id.
//
// A parsed schema is an immutable graph of Schema nodes owned by one arena; the
// shared_ptr returned by ParseSchema keeps the whole graph alive (children are
// plain `const Schema*` into the same arena, so never outlive the root pointer).
// Named types referenced again by name ("Address") resolve to the same node, so
// recursive schemas are cycles in the graph.
//
// Thread safety: a parsed Schema is immutable and may be shared between threads.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace forcepipe::avro {

enum class Type : uint8_t {
  kNull,
  kBoolean,
  kInt,
  kLong,
  kFloat,
  kDouble,
  kBytes,
  kString,
  kRecord,
  kEnum,
  kArray,
  kMap,
  kUnion,
  kFixed,
};

// "null", "boolean", ... "fixed".
std::string_view TypeName(Type type);

class Schema;

struct Field {
  std::string name;
  size_t index = 0;              // position in the record
  const Schema* type = nullptr;  // never null
  std::string doc;               // "" when absent
  // The "default" attribute as compact JSON text ("null", "0", "\"x\""), when present.
  std::optional<std::string> default_json;
};

class Schema {
 public:
  Type type() const { return type_; }

  // Named types (record, enum, fixed): the short name, the namespace ("" = none)
  // and the full name ("ns.Name" or "Name"). Empty for other types.
  const std::string& name() const { return name_; }
  const std::string& name_space() const { return namespace_; }
  const std::string& full_name() const { return full_name_; }
  const std::string& doc() const { return doc_; }
  const std::vector<std::string>& aliases() const { return aliases_; }

  // Record fields, in order. Empty for other types.
  const std::vector<Field>& fields() const { return fields_; }
  // Linear search; for inspection and tests, not for hot paths.
  const Field* FindField(std::string_view name) const;

  // Enum symbols; enum "default" symbol if any.
  const std::vector<std::string>& symbols() const { return symbols_; }
  std::optional<size_t> FindSymbol(std::string_view symbol) const;

  // Array items / map values. REQUIRES: type() == kArray / kMap.
  const Schema& items() const { return *child_; }
  const Schema& values() const { return *child_; }

  // Union branches. Empty for other types.
  const std::vector<const Schema*>& branches() const { return branches_; }
  // Index of the "null" branch of a union, or -1.
  int null_branch() const { return null_branch_; }

  // Fixed size in bytes. 0 for other types.
  uint64_t size() const { return size_; }

  // Logical type attribute ("timestamp-millis", "decimal", ...) carried as data;
  // "" when absent. precision/scale are 0 when absent.
  const std::string& logical_type() const { return logical_type_; }
  int precision() const { return precision_; }
  int scale() const { return scale_; }

  // Salesforce EXPANDED schemas use "type":"expanded-record"; parsed as a record
  // with this flag set.
  bool expanded_record() const { return expanded_record_; }

 private:
  friend class SchemaBuilder;

  Type type_ = Type::kNull;
  std::string name_;
  std::string namespace_;
  std::string full_name_;
  std::string doc_;
  std::vector<std::string> aliases_;
  std::vector<Field> fields_;
  std::vector<std::string> symbols_;
  const Schema* child_ = nullptr;
  std::vector<const Schema*> branches_;
  int null_branch_ = -1;
  uint64_t size_ = 0;
  std::string logical_type_;
  int precision_ = 0;
  int scale_ = 0;
  bool expanded_record_ = false;
};

// Parses any Avro schema (JSON text). Errors are kInvalidArgument with a path.
Result<std::shared_ptr<const Schema>> ParseSchema(std::string_view json);

// Avro Parsing Canonical Form (Avro spec "Transforming into Parsing Canonical Form").
std::string CanonicalForm(const Schema& schema);

// Salesforce schema id: base64url, no padding, of MD5(CanonicalForm(schema)).
std::string SchemaId(const Schema& schema);

}  // namespace forcepipe::avro
