// libFuzzer target for the Pub/Sub event mapper (src/sources/pubsub/event_mapper): an
// event's payload and replay id come from the network. The first input byte picks one of
// the real-shaped schemas in testdata/schemas (CDC with bitmaps, platform, RTEM), the rest
// is the Avro payload. Map must never crash, and every line it produces is valid JSON, in
// the full and in the line-only (`forcepipe tail`) mode.

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/entry.h"
#include "sources/pubsub/event_mapper.h"
#include "sources/pubsub/pubsub_client.h"

#ifndef FORCEPIPE_FUZZ_SCHEMA_DIR
#error "FORCEPIPE_FUZZ_SCHEMA_DIR is set by fuzz/pubsub.cmake (testdata/schemas)"
#endif

namespace {

using forcepipe::pubsub::CompiledSchema;

const std::vector<std::shared_ptr<const CompiledSchema>>& Schemas() {
  static const auto* schemas = [] {
    auto* out = new std::vector<std::shared_ptr<const CompiledSchema>>();
    for (const char* file : {"AccountChangeEvent.json", "ContactChangeEvent.json",
                             "Some_Custom_Object__ChangeEvent.json", "Order_Event__e.json",
                             "LoginEventStream.json", "Low_Ink__e.compact.json"}) {
      std::ifstream in(std::string(FORCEPIPE_FUZZ_SCHEMA_DIR) + "/" + file);
      std::stringstream ss;
      ss << in.rdbuf();
      if (ss.str().empty()) std::abort();  // fuzz the real schemas or not at all
      auto c = forcepipe::pubsub::CompileSchema(file, ss.str());
      if (!c.ok()) std::abort();
      out->push_back(*c);
    }
    return out;
  }();
  return *schemas;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto& schemas = Schemas();
  const CompiledSchema& schema = *schemas[data[0] % schemas.size()];
  const bool line_only = (data[0] / schemas.size()) % 2 == 1;
  eventbus::v1::ConsumerEvent ce;
  ce.mutable_event()->set_id("fuzz-event");
  ce.mutable_event()->set_schema_id(schema.id);
  ce.mutable_event()->set_payload(reinterpret_cast<const char*>(data + 1), size - 1);
  ce.set_replay_id(std::string(reinterpret_cast<const char*>(data), size < 9 ? size : 9));
  forcepipe::pubsub::EventMapper mapper("00D000000000001AAA", "fuzz", "/data/Fuzz",
                                        "pubsub:/data/Fuzz");
  mapper.set_line_only(line_only);
  forcepipe::Entry entry;
  if (!mapper.Map(ce, schema, &entry).ok()) return 0;
  if (!nlohmann::json::accept(entry.line)) std::abort();
  return 0;
}
