#include "emulator/schemas.h"

#include <nlohmann/json.hpp>

namespace forcepipe::emulator {

const EmbeddedSchema* FindEmbeddedSchema(std::string_view name) {
  for (const auto& s : EmbeddedSchemas()) {
    if (name == s.name) return &s;
  }
  return nullptr;
}

Result<LoadedSchema> LoadSchema(std::string_view json) {
  auto parsed = avro::ParseSchema(json);
  if (!parsed.ok()) return parsed.status();
  LoadedSchema out;
  out.schema = std::move(parsed).value();
  out.id = avro::SchemaId(*out.schema);
  auto decoder = avro::Decoder::Create(out.schema);
  if (!decoder.ok()) return decoder.status();
  out.decoder = std::move(decoder).value();
  try {
    auto j = nlohmann::ordered_json::parse(json);
    if (j.is_object()) j.erase("uuid");
    out.compact_json = j.dump();
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("schema JSON: ") + e.what());
  }
  return out;
}

Result<std::string> AddFieldToSchema(std::string_view json, const std::string& field_name) {
  try {
    auto j = nlohmann::ordered_json::parse(json);
    if (!j.is_object() || !j.contains("fields") || !j["fields"].is_array()) {
      return Status::InvalidArgument("not a record schema");
    }
    nlohmann::ordered_json f;
    f["name"] = field_name;
    f["type"] = nlohmann::ordered_json::array({"null", "string"});
    f["doc"] = "Data:Text:00N" + std::to_string(field_name.size()) + "000000EmuX";
    f["default"] = nullptr;
    j["fields"].push_back(f);
    if (j.is_object()) j.erase("uuid");
    return j.dump();
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("schema JSON: ") + e.what());
  }
}

}  // namespace forcepipe::emulator

#include "emulator/event_bus.h"

namespace forcepipe::emulator {

Result<std::shared_ptr<const LoadedSchema>> SchemaRegistry::Register(std::string_view json) {
  auto loaded = LoadSchema(json);
  if (!loaded.ok()) return loaded.status();
  std::lock_guard g(mu_);
  auto it = by_id_.find(loaded->id);
  if (it != by_id_.end()) return it->second;
  auto p = std::make_shared<const LoadedSchema>(std::move(loaded).value());
  bus_->AddSchema(p->id, p->compact_json);
  by_id_[p->id] = p;
  return p;
}

std::shared_ptr<const LoadedSchema> SchemaRegistry::Find(const std::string& id) const {
  std::lock_guard g(mu_);
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second;
}

}  // namespace forcepipe::emulator
