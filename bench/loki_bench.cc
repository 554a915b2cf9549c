// Loki push encoding throughput: entries/s per core for ~300-byte lines with 6
// structured-metadata pairs, in batches of about 1 MiB (the engine's default
// batch.max_bytes). Each iteration plans streams and encodes one whole batch,
// exactly as LokiSink::Push does before the HTTP call.
//
//   BM_LokiProtobufSnappy   the default: hand-written protobuf + snappy block
//   BM_GeneratedProtobufSnappy  the same bytes via generated logproto classes
//   BM_LokiJson / BM_LokiJsonGzip  the debugging encodings

#include <benchmark/benchmark.h>

#ifdef FORCEPIPE_WITH_LOKI_RECEIVER
#include "sinks/loki/tests/loki_receiver.h"
#endif
#include <snappy.h>

#include <random>
#include <string>

#include "sinks/loki/loki_encoder.h"
#include "sinks/loki/loki_sink.h"
#include "sinks/loki/proto/push.pb.h"

namespace forcepipe::loki {
namespace {

constexpr size_t kLineBytes = 300;

Batch MakeBatch(size_t max_bytes) {
  std::mt19937_64 rng(42);
  static const char kAlphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  auto word = [&](size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s.push_back(kAlphabet[rng() % (sizeof(kAlphabet) - 1)]);
    return s;
  };
  std::vector<LabelSetRef> sets;
  for (const char* type :
       {"LoginEventStream", "ApiEventStream", "LogoutEventStream", "UriEventStream"}) {
    sets.push_back(std::make_shared<const LabelSet>(
        LabelSet{{"source", "pubsub"}, {"event_type", type}, {"sf_org_id", "00D5e000000abcd"}}));
  }
  Batch b;
  int64_t ts = 1'700'000'000'000'000'000;
  while (b.bytes < max_bytes) {
    Entry e;
    e.labels = sets[b.entries.size() % sets.size()];
    ts += 1'000'000 + int64_t(rng() % 1000);
    e.timestamp_ns = ts;
    std::string line = "{\"EventIdentifier\":\"" + word(36) + "\",\"UserId\":\"005" + word(15) +
                       "\",\"SourceIp\":\"10.0." + std::to_string(rng() % 256) + "." +
                       std::to_string(rng() % 256) +
                       "\",\"Application\":\"Browser\",\"Status\":\"" +
                       (rng() % 10 ? "Success" : "Failed") + "\",\"Uri\":\"/" + word(40) + "\"";
    line += ",\"pad\":\"" + word(kLineBytes - line.size() - 10) + "\"}";
    e.line = line.substr(0, kLineBytes);
    e.structured_metadata = {{"event_id", word(36)},        {"replay_id", word(12)},
                             {"user_id", "005" + word(15)}, {"schema_id", word(22)},
                             {"session_key", word(16)},     {"login_key", word(16)}};
    e.byte_size = e.ComputeByteSize();
    b.bytes += e.byte_size;
    b.entries.push_back(std::move(e));
  }
  return b;
}

void Run(benchmark::State& state, EncoderOptions options) {
  Batch batch = MakeBatch(1 << 20);
  auto policy = LabelPolicy::Create({{"environment", "prod"}}, "", {});
  BatchPlan plan;
  Encoder encoder(options);
  std::vector<uint32_t> idx(batch.entries.size());
  for (uint32_t i = 0; i < idx.size(); ++i) idx[i] = i;
  size_t wire = 0, raw = 0;
  for (auto _ : state) {
    plan.Build(batch, *policy, options.max_line_bytes);
    Encoder::Body body = encoder.Encode(batch, plan, idx);
    benchmark::DoNotOptimize(body.data.data());
    wire = body.data.size();
    raw = body.uncompressed_size;
  }
  state.SetItemsProcessed(int64_t(state.iterations() * batch.entries.size()));
  state.SetBytesProcessed(int64_t(state.iterations() * raw));
  state.counters["entries_per_batch"] = double(batch.entries.size());
  state.counters["wire_bytes"] = double(wire);
  state.counters["raw_bytes"] = double(raw);
}

void BM_LokiProtobufSnappy(benchmark::State& state) { Run(state, {}); }
void BM_LokiJson(benchmark::State& state) { Run(state, {.encoding = Encoding::kJson}); }
void BM_LokiJsonGzip(benchmark::State& state) {
  Run(state, {.encoding = Encoding::kJson, .json_compression = Compression::kGzip});
}

// Baseline: build generated messages per batch (arena-free) and serialize.
void BM_GeneratedProtobufSnappy(benchmark::State& state) {
  Batch batch = MakeBatch(1 << 20);
  auto policy = LabelPolicy::Create({{"environment", "prod"}}, "", {});
  BatchPlan plan;
  std::string raw, out;
  for (auto _ : state) {
    plan.Build(batch, *policy, kDefaultMaxLineBytes);
    logproto::PushRequest req;
    std::vector<logproto::StreamAdapter*> streams(plan.stream_count());
    for (size_t i = 0; i < plan.stream_count(); ++i) {
      streams[i] = req.add_streams();
      streams[i]->set_labels(plan.stream(i).labels);
    }
    for (size_t i = 0; i < batch.entries.size(); ++i) {
      const Entry& e = batch.entries[i];
      auto* pe = streams[plan.stream_of(i)]->add_entries();
      pe->mutable_timestamp()->set_seconds(e.timestamp_ns / 1'000'000'000);
      pe->mutable_timestamp()->set_nanos(int32_t(e.timestamp_ns % 1'000'000'000));
      pe->set_line(e.line);
      for (const Label& l : e.structured_metadata) {
        auto* kv = pe->add_structuredmetadata();
        kv->set_name(l.name);
        kv->set_value(l.value);
      }
    }
    req.SerializeToString(&raw);
    snappy::Compress(raw.data(), raw.size(), &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(int64_t(state.iterations() * batch.entries.size()));
}

BENCHMARK(BM_LokiProtobufSnappy)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_GeneratedProtobufSnappy)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LokiJson)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LokiJsonGzip)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace forcepipe::loki

#ifdef FORCEPIPE_WITH_LOKI_RECEIVER
// End to end: LokiSink::Push of ~1 MiB batches over real HTTP (protobuf +
// snappy) into the test receiver, which decodes and stores every entry.
void BM_LokiPushToReceiver(benchmark::State& state) {
  forcepipe::loki_test::LokiReceiver receiver;
  if (!receiver.Start(0).ok()) {
    state.SkipWithError("receiver did not start");
    return;
  }
  forcepipe::LokiSinkOptions o;
  o.url = receiver.url();
  auto sink = forcepipe::LokiSink::Create(o);
  if (!sink.ok() || !(*sink)->Start().ok()) {
    state.SkipWithError("sink did not start");
    return;
  }
  forcepipe::Batch batch = forcepipe::loki::MakeBatch(1 << 20);
  for (auto _ : state) {
    forcepipe::PushOutcome out = (*sink)->Push(batch);
    if (out.kind != forcepipe::PushOutcome::Kind::kOk) state.SkipWithError("push failed");
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(batch.entries.size()));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(batch.bytes));
  (*sink)->Stop();
  receiver.Stop();
}
BENCHMARK(BM_LokiPushToReceiver)->Unit(benchmark::kMillisecond)->Iterations(200)->UseRealTime();
#endif

BENCHMARK_MAIN();
