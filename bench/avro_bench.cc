// Avro decode throughput on Salesforce AccountChangeEvent payloads.
//
// Two payload shapes: "sparse" (a realistic CDC UPDATE: full ChangeEventHeader plus a
// handful of changed fields, everything else null) and "full" (every field set).
// Strings are plain ASCII words. Benchmarks report items_per_second = events/s on one
// core.

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "avro/decoder.h"
#include "avro/encoder.h"
#include "avro/schema.h"
#include "avro/tests/random_avro.h"

#ifndef FORCEPIPE_TESTDATA_DIR
#error "FORCEPIPE_TESTDATA_DIR is set by bench/avro.cmake"
#endif

namespace {

using namespace forcepipe::avro;  // NOLINT(build/namespaces)

struct Fixture {
  std::shared_ptr<const Schema> schema;
  std::unique_ptr<Decoder> decoder;
  std::vector<std::string> sparse;  // payloads
  std::vector<std::string> full;
};

Value Header(const Schema& h, int i) {
  std::vector<std::string> ids = {"001RM000005bXk2YAE"};
  return Value::Record({
      Value::String("Account"),
      Value::Array({Value::String(ids[0])}),
      Value::Enum(1),  // UPDATE
      Value::String("com/salesforce/api/soap/60.0;client=SfdcInternalAPI/"),
      Value::String("0002a1b3-4c5d-6e7f-8091-a2b3c4d5e6f7"),
      Value::Int(1),
      Value::Long(1700000000000LL + i),
      Value::Long(11180000000000LL + i),
      Value::String("005RM000002dK9tYAE"),
      Value::Array({}),
      Value::Array({}),
      Value::Array({Value::String("0x800003"), Value::String("3-0x01")}),
  });
}

const Fixture& GetFixture() {
  static Fixture* f = [] {
    auto* fx = new Fixture();
    const char* path = FORCEPIPE_TESTDATA_DIR "/schemas/AccountChangeEvent.json";
    std::ifstream in(path);
    if (!in) {
      std::fprintf(stderr, "avro_bench: test data file missing: %s\n", path);
      std::exit(1);
    }
    std::stringstream ss;
    ss << in.rdbuf();
    fx->schema = *ParseSchema(ss.str());
    fx->decoder = std::move(Decoder::Create(fx->schema)).value();
    const Schema& s = *fx->schema;
    testing::RandomAvro rnd(1);
    rnd.set_plain_strings(true);
    for (int i = 0; i < 64; ++i) {
      // sparse: header + 4 non-null fields
      std::vector<Value> fields;
      fields.push_back(Header(*s.fields()[0].type, i));
      for (size_t k = 1; k < s.fields().size(); ++k) {
        const Schema& u = *s.fields()[k].type;
        bool set = k % 15 == static_cast<size_t>(i % 15);
        if (u.type() == Type::kUnion && !set) {
          fields.push_back(Value::Union(u.null_branch(), Value::Null()));
        } else if (u.type() == Type::kUnion) {
          size_t b = u.null_branch() == 0 ? 1 : 0;
          fields.push_back(Value::Union(b, rnd.ValueFor(*u.branches()[b], 5)));
        } else {
          fields.push_back(rnd.ValueFor(u, 5));
        }
      }
      std::string payload;
      if (!Encode(s, Value::Record(std::move(fields)), &payload).ok()) std::abort();
      fx->sparse.push_back(std::move(payload));
      // full: every field non-null
      std::vector<Value> all;
      all.push_back(Header(*s.fields()[0].type, i));
      for (size_t k = 1; k < s.fields().size(); ++k) {
        const Schema& u = *s.fields()[k].type;
        size_t b = u.null_branch() == 0 ? 1 : 0;
        all.push_back(Value::Union(b, rnd.ValueFor(*u.branches()[b], 5)));
      }
      payload.clear();
      if (!Encode(s, Value::Record(std::move(all)), &payload).ok()) std::abort();
      fx->full.push_back(std::move(payload));
    }
    return fx;
  }();
  return *f;
}

const std::vector<std::string>& Payloads(const Fixture& f, int64_t which) {
  return which == 0 ? f.sparse : f.full;
}

void SetCounters(benchmark::State& state, const std::vector<std::string>& p) {
  size_t bytes = 0;
  for (const auto& s : p) bytes += s.size();
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * (bytes / p.size())));
  state.SetLabel(state.range(0) == 0 ? "sparse" : "full");
}

void BM_AvroDecodeToJson(benchmark::State& state) {
  const Fixture& f = GetFixture();
  const auto& p = Payloads(f, state.range(0));
  std::string out;
  size_t i = 0;
  for (auto _ : state) {
    if (!f.decoder->DecodeToJson(p[i++ & 63], &out).ok()) state.SkipWithError("decode");
    benchmark::DoNotOptimize(out.data());
  }
  SetCounters(state, p);
}
BENCHMARK(BM_AvroDecodeToJson)->Arg(0)->Arg(1);

void BM_AvroDecodeIntoValue(benchmark::State& state) {
  const Fixture& f = GetFixture();
  const auto& p = Payloads(f, state.range(0));
  Value v;
  size_t i = 0;
  for (auto _ : state) {
    if (!f.decoder->DecodeInto(p[i++ & 63], &v).ok()) state.SkipWithError("decode");
    benchmark::DoNotOptimize(&v);
  }
  SetCounters(state, p);
}
BENCHMARK(BM_AvroDecodeIntoValue)->Arg(0)->Arg(1);

void BM_AvroDecodeFreshValue(benchmark::State& state) {
  const Fixture& f = GetFixture();
  const auto& p = Payloads(f, state.range(0));
  size_t i = 0;
  for (auto _ : state) {
    auto v = f.decoder->Decode(p[i++ & 63]);
    if (!v.ok()) state.SkipWithError("decode");
    benchmark::DoNotOptimize(&v);
  }
  SetCounters(state, p);
}
BENCHMARK(BM_AvroDecodeFreshValue)->Arg(0)->Arg(1);

void BM_AvroEncode(benchmark::State& state) {
  const Fixture& f = GetFixture();
  const auto& p = Payloads(f, state.range(0));
  std::vector<Value> values;
  for (const auto& s : p) values.push_back(*f.decoder->Decode(s));
  std::string out;
  size_t i = 0;
  for (auto _ : state) {
    out.clear();
    if (!Encode(*f.schema, values[i++ & 63], &out).ok()) state.SkipWithError("encode");
    benchmark::DoNotOptimize(out.data());
  }
  SetCounters(state, p);
}
BENCHMARK(BM_AvroEncode)->Arg(0)->Arg(1);

}  // namespace

BENCHMARK_MAIN();
