// libFuzzer target for src/avro: the first input byte picks a mode.
//   0      : the rest is schema JSON -> ParseSchema; when it parses, the canonical
//            form must re-parse to the same canonical form and id, and a decoder
//            must compile.
//   1      : the rest is JSON -> ValueFromJson against the fixed schemas; a value
//            produced must encode, and decode back to itself.
//   2..255 : the rest is an Avro payload decoded against one of a few fixed schemas
//            (AccountChangeEvent, a recursive list, one with every type). Decode and
//            DecodeToJson must agree on success; a decoded Value must re-encode and
//            decode back to itself.

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "avro/decoder.h"
#include "avro/encoder.h"
#include "avro/json_value.h"
#include "avro/schema.h"

#ifndef FORCEPIPE_FUZZ_SCHEMA_DIR
#error "FORCEPIPE_FUZZ_SCHEMA_DIR is set by fuzz/avro.cmake (testdata/schemas)"
#endif

namespace {

using forcepipe::avro::Decoder;

const char kEveryType[] = R"({"type":"record","name":"All","namespace":"f","fields":[
  {"name":"n","type":"null"},{"name":"b","type":"boolean"},{"name":"i","type":"int"},
  {"name":"l","type":"long"},{"name":"f","type":"float"},{"name":"d","type":"double"},
  {"name":"by","type":"bytes"},{"name":"s","type":"string"},
  {"name":"e","type":{"type":"enum","name":"E","symbols":["A","B","C"]}},
  {"name":"fx","type":{"type":"fixed","name":"F","size":3}},
  {"name":"a","type":{"type":"array","items":["null","string","E"]}},
  {"name":"m","type":{"type":"map","values":{"type":"array","items":"null"}}},
  {"name":"u","type":["null","long","F",{"type":"record","name":"Inner","fields":[
      {"name":"x","type":"double"}]}]}]})";

const char kList[] = R"({"type":"record","name":"Node","fields":[
  {"name":"v","type":"int"},{"name":"next","type":["null","Node"]}]})";

// True when named types with and without a namespace are mixed. Parsing Canonical
// Form cannot express a no-namespace type nested in a namespaced one (the name
// "Data" would inherit the enclosing namespace on re-parse), so the round trip is
// only checked for other schemas.
void Namespaces(const forcepipe::avro::Schema& s, std::set<const void*>* seen, bool* empty,
                bool* nonempty) {
  if (!seen->insert(&s).second) return;
  if (!s.full_name().empty()) (s.name_space().empty() ? *empty : *nonempty) = true;
  for (const auto& f : s.fields()) Namespaces(*f.type, seen, empty, nonempty);
  for (const auto* b : s.branches()) Namespaces(*b, seen, empty, nonempty);
  if (s.type() == forcepipe::avro::Type::kArray || s.type() == forcepipe::avro::Type::kMap) {
    Namespaces(s.items(), seen, empty, nonempty);
  }
}

std::vector<std::unique_ptr<Decoder>>* Decoders() {
  static auto* decoders = [] {
    auto* v = new std::vector<std::unique_ptr<Decoder>>();
    std::vector<std::string> texts = {kEveryType, kList};
    std::ifstream in(std::string(FORCEPIPE_FUZZ_SCHEMA_DIR) + "/AccountChangeEvent.json");
    std::stringstream ss;
    ss << in.rdbuf();
    if (ss.str().empty()) std::abort();  // fuzz the real schema or not at all
    texts.push_back(ss.str());
    for (const auto& t : texts) {
      auto s = forcepipe::avro::ParseSchema(t);
      if (!s.ok()) std::abort();
      auto d = Decoder::Create(*s);
      if (!d.ok()) std::abort();
      v->push_back(std::move(d).value());
    }
    return v;
  }();
  return decoders;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] == 0) {
    auto s = forcepipe::avro::ParseSchema(rest);
    if (!s.ok()) return 0;
    std::string canonical = forcepipe::avro::CanonicalForm(**s);
    std::set<const void*> seen;
    bool empty = false, nonempty = false;
    Namespaces(**s, &seen, &empty, &nonempty);
    if (!(empty && nonempty)) {
      auto again = forcepipe::avro::ParseSchema(canonical);
      if (!again.ok()) std::abort();
      if (forcepipe::avro::CanonicalForm(**again) != canonical) std::abort();
      if (forcepipe::avro::SchemaId(**again) != forcepipe::avro::SchemaId(**s)) std::abort();
    }
    auto d = Decoder::Create(*s);
    if (!d.ok()) std::abort();
    std::string json;
    (void)(*d)->DecodeToJson(rest, &json);  // schema text as payload: just must not crash
    return 0;
  }
  auto& decoders = *Decoders();
  if (data[0] == 1) {
    for (const auto& dec : decoders) {
      auto v = forcepipe::avro::ValueFromJson(dec->schema(), rest);
      if (!v.ok()) continue;
      std::string bytes;
      if (!forcepipe::avro::Encode(dec->schema(), *v, &bytes).ok()) std::abort();
      auto back = dec->Decode(bytes);
      if (!back.ok() || !(*back == *v)) std::abort();
    }
    return 0;
  }
  const Decoder& d = *decoders[data[0] % decoders.size()];
  std::string json;
  forcepipe::Status js = d.DecodeToJson(rest, &json);
  auto v = d.Decode(rest);
  if (js.ok() != v.ok()) std::abort();
  if (!v.ok()) return 0;
  std::string bytes;
  if (!forcepipe::avro::Encode(d.schema(), *v, &bytes).ok()) std::abort();
  auto back = d.Decode(bytes);
  if (!back.ok() || !(*back == *v)) std::abort();
  std::string json2;
  if (!d.DecodeToJson(bytes, &json2).ok() || json2 != json) std::abort();
  return 0;
}
