// libFuzzer target for the CDC field-bitmap decoder (src/salesforce/cdc/field_bitmap.h).
// Input: newline-separated bitmap elements, decoded against each shared CDC schema.
// Run: build/fuzz/cdc_fuzz -max_total_time=60

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "avro/schema.h"
#include "salesforce/cdc/field_bitmap.h"

namespace {

std::vector<std::shared_ptr<const forcepipe::salesforce::cdc::FieldMap>> LoadMaps() {
  std::vector<std::shared_ptr<const forcepipe::salesforce::cdc::FieldMap>> maps;
  for (const char* file : {"AccountChangeEvent.json", "AccountChangeEvent.2023.json",
                           "ContactChangeEvent.json", "Some_Custom_Object__ChangeEvent.json"}) {
    std::ifstream f(std::string(FORCEPIPE_FUZZ_SCHEMA_DIR) + "/" + file);
    std::stringstream ss;
    ss << f.rdbuf();
    auto schema = forcepipe::avro::ParseSchema(ss.str());
    if (!schema.ok()) continue;
    auto map = forcepipe::salesforce::cdc::FieldMap::Build(**schema);
    if (map.ok()) maps.push_back(*map);
  }
  return maps;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto maps = LoadMaps();
  std::vector<std::string> elements;
  std::string cur;
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == '\n') {
      elements.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(static_cast<char>(data[i]));
    }
  }
  elements.push_back(std::move(cur));
  for (const auto& m : maps) {
    std::vector<std::string> names;
    if (m->DecodeNames(elements, &names).ok()) {
      // Every name must come from the map; sorted refs must be unique.
      std::vector<forcepipe::salesforce::cdc::FieldMap::FieldRef> refs;
      if (!m->DecodeRefs(elements, &refs).ok() || refs.size() != names.size()) __builtin_trap();
      for (size_t i = 1; i < refs.size(); ++i) {
        if (refs[i - 1] == refs[i]) __builtin_trap();
      }
    }
  }
  return 0;
}
