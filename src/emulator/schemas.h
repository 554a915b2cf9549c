#pragma once

// Schemas served by the emulator: the real-org captures in testdata/schemas/ (provenance in
// testdata/schemas/SOURCES.md) plus the modelled LoginEventStream, embedded into the binary
// at build time (CMake generates embedded_schemas.cc), so the emulator needs no files.
//
// Thread safety: immutable data; LoadSchema is a pure function.

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "avro/decoder.h"
#include "avro/schema.h"
#include "core/status.h"

namespace forcepipe::emulator {

struct EmbeddedSchema {
  const char* name;  // the name topics use, e.g. "AccountChangeEvent.2023", "Low_Ink__e"
  const char* file;  // the file in testdata/schemas/ it was embedded from
  const char* json;  // file contents as found
};
// Defined in the generated embedded_schemas.cc.
const std::vector<EmbeddedSchema>& EmbeddedSchemas();
// The embedded schema named `name`, or nullptr.
const EmbeddedSchema* FindEmbeddedSchema(std::string_view name);

struct LoadedSchema {
  std::string id;            // Salesforce schema id (avro::SchemaId)
  std::string compact_json;  // what GetSchema returns: single-line, key order kept, no "uuid"
  std::shared_ptr<const avro::Schema> schema;
  std::shared_ptr<const avro::Decoder> decoder;  // compiled once, for payload validation
};

// Parses `json`, computes its schema id and the compact form served by GetSchema.
Result<LoadedSchema> LoadSchema(std::string_view json);

// Returns a new version of `json` with one extra nullable string field `field_name`
// appended (what an admin adding a custom field does to an event's schema).
Result<std::string> AddFieldToSchema(std::string_view json, const std::string& field_name);

}  // namespace forcepipe::emulator

namespace forcepipe::emulator {

// Registry of parsed schemas by id; registering also publishes the JSON to the bus so
// GetSchema serves it. Thread safety: safe for concurrent use.
class EventBus;
class SchemaRegistry {
 public:
  explicit SchemaRegistry(EventBus* bus) : bus_(bus) {}
  // Parses and registers `json`; returns the loaded schema (existing one if known).
  Result<std::shared_ptr<const LoadedSchema>> Register(std::string_view json);
  std::shared_ptr<const LoadedSchema> Find(const std::string& id) const;

 private:
  EventBus* bus_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<const LoadedSchema>> by_id_;
};

}  // namespace forcepipe::emulator
