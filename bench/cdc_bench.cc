// CDC bitmap decoding (src/salesforce/cdc). Run: build/release/bench/cdc_bench

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "avro/encoder.h"
#include "avro/schema.h"
#include "salesforce/cdc/change_event.h"
#include "salesforce/cdc/field_bitmap.h"

namespace {

using forcepipe::salesforce::cdc::FieldMap;

std::shared_ptr<const forcepipe::avro::Schema> Account() {
  const char* path = FORCEPIPE_TESTDATA_DIR "/schemas/AccountChangeEvent.json";
  std::ifstream f(path);
  if (!f) {
    std::fprintf(stderr, "cdc_bench: test data file missing: %s\n", path);
    std::exit(1);
  }
  std::stringstream ss;
  ss << f.rdbuf();
  auto s = forcepipe::avro::ParseSchema(ss.str());
  if (!s.ok()) std::abort();
  return *s;
}

const auto& Schema() {
  static const auto kSchema = Account();
  return *kSchema;
}
const FieldMap& Map() {
  static const auto kMap = *FieldMap::Build(Schema());
  return *kMap;
}

// One typical UPDATE: LastModifiedDate + a few fields.
void BM_DecodeNamesTypical(benchmark::State& state) {
  const std::vector<std::string> elements = {"0x650004E0"};
  std::vector<std::string> out;
  for (auto _ : state) {
    if (!Map().DecodeNames(elements, &out).ok()) std::abort();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeNamesTypical);

// Field refs only (no string copies): the hot-path form.
void BM_DecodeRefsTypical(benchmark::State& state) {
  const std::vector<std::string> elements = {"0x650004E0"};
  std::vector<FieldMap::FieldRef> refs;
  for (auto _ : state) {
    refs.clear();
    if (!Map().DecodeRefs(elements, &refs).ok()) std::abort();
    benchmark::DoNotOptimize(refs.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeRefsTypical);

// Every top-level field set plus two nested elements (a CREATE of a full record).
void BM_DecodeNamesAllFields(benchmark::State& state) {
  std::string all = "0x";
  const size_t n = Schema().fields().size();
  std::string digits((n + 3) / 4, 'F');
  const size_t top_bits = n % 4;
  if (top_bits) digits[0] = "0137"[top_bits];
  all += digits;
  const std::vector<std::string> elements = {all, "5-0x3FF", "1-0x7"};
  std::vector<std::string> out;
  for (auto _ : state) {
    if (!Map().DecodeNames(elements, &out).ok()) std::abort();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["fields"] = static_cast<double>(out.size());
}
BENCHMARK(BM_DecodeNamesAllFields);

// Building the per-schema map (done once per schema id).
void BM_BuildFieldMap(benchmark::State& state) {
  for (auto _ : state) {
    auto m = FieldMap::Build(Schema());
    benchmark::DoNotOptimize(m);
  }
}
BENCHMARK(BM_BuildFieldMap);

// Whole DecodeChangeEvent from a decoded Value (header copy + 3 bitmaps + refs), with a
// precomputed map.
void BM_DecodeChangeEvent(benchmark::State& state) {
  using forcepipe::avro::Value;
  const auto& s = Schema();
  const auto* hs = s.fields()[0].type;
  std::vector<Value> h;
  for (const auto& f : hs->fields()) {
    if (f.name == "recordIds") {
      h.push_back(Value::Array({Value::String("001AAAAAAAAAAAAAAA")}));
    } else if (f.name == "changeType") {
      h.push_back(Value::Enum(1));
    } else if (f.name == "sequenceNumber") {
      h.push_back(Value::Int(1));
    } else if (f.name == "commitTimestamp" || f.name == "commitNumber") {
      h.push_back(Value::Long(1700000000000));
    } else if (f.name == "changedFields") {
      h.push_back(Value::Array({Value::String("0x650004E0"), Value::String("5-0x12")}));
    } else if (f.name == "nulledFields" || f.name == "diffFields") {
      h.push_back(Value::Array({}));
    } else {
      h.push_back(Value::String("Account"));
    }
  }
  std::vector<Value> fields(s.fields().size());
  fields[0] = Value::Record(std::move(h));
  const Value event = Value::Record(std::move(fields));
  for (auto _ : state) {
    auto e = forcepipe::salesforce::cdc::DecodeChangeEvent(Map(), s, event);
    if (!e.ok()) std::abort();
    benchmark::DoNotOptimize(e);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeChangeEvent);

}  // namespace

BENCHMARK_MAIN();
