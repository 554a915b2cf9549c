#include "sinks/loki/loki_encoder.h"

#include <gtest/gtest.h>
#include <snappy.h>
#include <zlib.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "sinks/loki/proto/push.pb.h"
#include "sinks/loki/tests/loki_receiver.h"

// GCC inlines the replaced operators and flags new->free as mismatched; they
// are a matched pair (malloc/free) by construction.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

// Counts heap allocations while g_counting is set (for the no-per-entry-
// allocation test).
namespace {
std::atomic<bool> g_counting{false};
std::atomic<size_t> g_allocations{0};
}  // namespace

void* operator new(size_t n) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1);
  void* p = std::malloc(n ? n : 1);
  if (!p) throw std::bad_alloc();
  return p;
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace forcepipe::loki {
namespace {

LabelSetRef Labels(LabelSet l) { return std::make_shared<const LabelSet>(std::move(l)); }

Entry MakeEntry(LabelSetRef labels, int64_t ts, std::string line,
                std::vector<Label> metadata = {}) {
  Entry e;
  e.labels = std::move(labels);
  e.timestamp_ns = ts;
  e.line = std::move(line);
  e.structured_metadata = std::move(metadata);
  return e;
}

std::vector<uint32_t> All(const Batch& b) {
  std::vector<uint32_t> v(b.entries.size());
  for (uint32_t i = 0; i < v.size(); ++i) v[i] = i;
  return v;
}

logproto::PushRequest DecodeProto(std::string_view body) {
  std::string raw;
  EXPECT_TRUE(snappy::Uncompress(body.data(), body.size(), &raw));
  logproto::PushRequest req;
  EXPECT_TRUE(req.ParseFromString(raw));
  return req;
}

std::string Gunzip(std::string_view in) {
  z_stream zs{};
  EXPECT_EQ(inflateInit2(&zs, 15 + 16), Z_OK);
  std::string out(1 << 20, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = uInt(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = uInt(out.size());
  EXPECT_EQ(inflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  inflateEnd(&zs);
  return out;
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = uint8_t(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((uint8_t(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

class EncoderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto p = LabelPolicy::Create({{"environment", "test"}}, "", {});
    ASSERT_TRUE(p.ok());
    policy_ = *p;
  }
  LabelPolicy policy_;
  BatchPlan plan_;
};

TEST_F(EncoderTest, ProtobufGroupsStreamsSortsByTimeAndDecodesWithGeneratedClasses) {
  auto login = Labels({{"source", "pubsub"}, {"event_type", "Login"}, {"user_id", "005A"}});
  auto api = Labels({{"source", "pubsub"}, {"event_type", "Api"}});
  Batch b;
  b.entries.push_back(MakeEntry(login, 3'000'000'005, "l3", {{"event_id", "e3"}}));
  b.entries.push_back(MakeEntry(api, 2'000'000'000, "a2"));
  b.entries.push_back(MakeEntry(login, 1'000'000'001, "l1", {{"event_id", "e1"}, {"k", ""}}));
  b.entries.push_back(MakeEntry(login, 3'000'000'005, "l3b"));  // same ts: keeps batch order
  plan_.Build(b, policy_, kDefaultMaxLineBytes);
  EXPECT_EQ(plan_.stream_count(), 2u);

  Encoder enc({});
  auto idx = All(b);
  Encoder::Body body = enc.Encode(b, plan_, idx);
  EXPECT_EQ(body.content_type, "application/x-protobuf");
  EXPECT_EQ(body.content_encoding, "");
  logproto::PushRequest req = DecodeProto(body.data);
  ASSERT_EQ(req.streams_size(), 2);
  const auto& s0 = req.streams(0);
  EXPECT_EQ(s0.labels(),
            "{environment=\"test\", event_type=\"Login\", job=\"forcepipe\", source=\"pubsub\"}");
  ASSERT_EQ(s0.entries_size(), 3);
  EXPECT_EQ(s0.entries(0).line(), "l1");
  EXPECT_EQ(s0.entries(0).timestamp().seconds(), 1);
  EXPECT_EQ(s0.entries(0).timestamp().nanos(), 1);
  ASSERT_EQ(s0.entries(0).structuredmetadata_size(), 3);
  EXPECT_EQ(s0.entries(0).structuredmetadata(0).name(), "event_id");
  EXPECT_EQ(s0.entries(0).structuredmetadata(0).value(), "e1");
  EXPECT_EQ(s0.entries(0).structuredmetadata(1).name(), "k");
  EXPECT_EQ(s0.entries(0).structuredmetadata(1).value(), "");
  // The non-allowlisted label rides along as structured metadata.
  EXPECT_EQ(s0.entries(0).structuredmetadata(2).name(), "user_id");
  EXPECT_EQ(s0.entries(0).structuredmetadata(2).value(), "005A");
  EXPECT_EQ(s0.entries(1).line(), "l3");
  EXPECT_EQ(s0.entries(2).line(), "l3b");
  EXPECT_EQ(s0.entries(2).timestamp().nanos(), 5);
  EXPECT_EQ(req.streams(1).entries(0).line(), "a2");
  EXPECT_EQ(req.streams(1).entries(0).structuredmetadata_size(), 0);
}

TEST_F(EncoderTest, ProtobufBytesEqualTheGeneratedSerializer) {
  auto labels = Labels({{"source", "s"}, {"event_type", "E"}, {"org", "acme"}});
  Batch b;
  b.entries.push_back(MakeEntry(labels, 0, "", {}));  // epoch, empty line
  b.entries.push_back(MakeEntry(labels, -1'500'000'000, "neg", {{"a", "1"}}));
  b.entries.push_back(MakeEntry(labels, 1'700'000'000'123'456'789, std::string(300, 'x'),
                                {{"event_id", "id"}, {"", "v"}, {"n", ""}}));
  plan_.Build(b, policy_, kDefaultMaxLineBytes);
  Encoder enc({});
  auto idx = All(b);
  enc.Encode(b, plan_, idx);

  logproto::PushRequest want;
  auto* s = want.add_streams();
  s->set_labels(
      "{environment=\"test\", event_type=\"E\", job=\"forcepipe\", org=\"acme\", source=\"s\"}");
  auto add = [&](int64_t sec, int32_t nanos, const Entry& e) {
    auto* pe = s->add_entries();
    pe->mutable_timestamp()->set_seconds(sec);
    pe->mutable_timestamp()->set_nanos(nanos);
    pe->set_line(e.line);
    for (const auto& l : e.structured_metadata) {
      auto* kv = pe->add_structuredmetadata();
      kv->set_name(l.name);
      kv->set_value(l.value);
    }
  };
  add(-2, 500'000'000, b.entries[1]);  // -1.5 s: seconds floor, nanos positive
  add(0, 0, b.entries[0]);
  add(1'700'000'000, 123'456'789, b.entries[2]);
  std::string expected;
  ASSERT_TRUE(want.SerializeToString(&expected));
  EXPECT_EQ(enc.last_uncompressed(), expected);
}

TEST_F(EncoderTest, SameEntriesGiveSameBytesAcrossPlansAndCopies) {
  Batch a;
  for (int i = 0; i < 50; ++i) {
    a.entries.push_back(MakeEntry(Labels({{"source", "s"}, {"event_type", i % 2 ? "A" : "B"}}),
                                  1000 - i, "line" + std::to_string(i),
                                  {{"i", std::to_string(i)}}));
  }
  Batch copy = a;                                             // shares label sets
  for (auto& e : copy.entries) e.labels = Labels(*e.labels);  // distinct pointers, same content
  Encoder enc1({}), enc2({});
  BatchPlan plan2;
  plan_.Build(a, policy_, kDefaultMaxLineBytes);
  plan2.Build(copy, policy_, kDefaultMaxLineBytes);
  auto idx = All(a);
  std::string first(enc1.Encode(a, plan_, idx).data);
  std::string second(enc2.Encode(copy, plan2, idx).data);
  EXPECT_EQ(first, second);
  // Index order does not matter either.
  std::reverse(idx.begin(), idx.end());
  EXPECT_EQ(std::string(enc1.Encode(a, plan_, idx).data), first);
}

TEST_F(EncoderTest, SubsetEncodesOnlyThoseEntries) {
  auto l = Labels({{"source", "s"}});
  Batch b;
  for (int i = 0; i < 6; ++i) b.entries.push_back(MakeEntry(l, i, "e" + std::to_string(i)));
  plan_.Build(b, policy_, kDefaultMaxLineBytes);
  Encoder enc({});
  std::vector<uint32_t> idx = {4, 1};
  auto req = DecodeProto(enc.Encode(b, plan_, idx).data);
  ASSERT_EQ(req.streams_size(), 1);
  ASSERT_EQ(req.streams(0).entries_size(), 2);
  EXPECT_EQ(req.streams(0).entries(0).line(), "e1");
  EXPECT_EQ(req.streams(0).entries(1).line(), "e4");
}

TEST(LokiCapLine, CutsOnUtf8BoundaryWithMarker) {
  // "é" is 2 bytes, "€" 3, "𝄞" 4. Try every cap so the cut lands everywhere.
  std::string line;
  for (int i = 0; i < 40; ++i) line += "aé€𝄞";
  for (size_t max = 20; max < line.size(); ++max) {
    CappedLine c = CapLine(line, max);
    ASSERT_TRUE(c.truncated);
    EXPECT_LE(c.size(), max);
    EXPECT_GE(c.size(), max - 3);  // never gives away more than one code point
    std::string sent = std::string(c.prefix) + std::string(kTruncationMarker);
    EXPECT_TRUE(IsValidUtf8(sent)) << "max=" << max;
    EXPECT_EQ(line.compare(0, c.prefix.size(), c.prefix), 0);
  }
  CappedLine whole = CapLine(line, line.size());
  EXPECT_FALSE(whole.truncated);
  EXPECT_EQ(whole.prefix, line);
}

TEST_F(EncoderTest, LongLinesAreCappedAndCounted) {
  auto l = Labels({{"source", "s"}});
  Batch b;
  std::string big;
  while (big.size() < 3000) big += "€";
  b.entries.push_back(MakeEntry(l, 1, big));
  b.entries.push_back(MakeEntry(l, 2, "short"));
  plan_.Build(b, policy_, 1000);
  EXPECT_EQ(plan_.truncated_lines(), 1u);
  Encoder enc({.max_line_bytes = 1000});
  auto idx = All(b);
  auto req = DecodeProto(enc.Encode(b, plan_, idx).data);  // proto3 parse checks UTF-8
  const std::string& line = req.streams(0).entries(0).line();
  EXPECT_LE(line.size(), 1000u);
  EXPECT_TRUE(line.ends_with(kTruncationMarker));
  EXPECT_TRUE(IsValidUtf8(line));
  EXPECT_EQ(req.streams(0).entries(1).line(), "short");
}

TEST_F(EncoderTest, JsonCarriesLabelsValuesAndMetadata) {
  auto l = Labels({{"source", "s\"q"}, {"event_type", "a\\b\nc"}, {"user_id", "u1"}});
  Batch b;
  b.entries.push_back(
      MakeEntry(l, 1'700'000'000'000'000'001, "{\"x\":1}\t\x01", {{"event_id", "e1"}}));
  b.entries.push_back(MakeEntry(l, 5, std::string("bad\xff utf8")));
  plan_.Build(b, policy_, kDefaultMaxLineBytes);
  Encoder enc({.encoding = Encoding::kJson});
  auto idx = All(b);
  auto body = enc.Encode(b, plan_, idx);
  EXPECT_EQ(body.content_type, "application/json");
  auto j = nlohmann::json::parse(body.data);
  const auto& s = j["streams"][0];
  EXPECT_EQ(s["stream"]["source"], "s\"q");
  EXPECT_EQ(s["stream"]["event_type"], "a\\b\nc");
  EXPECT_EQ(s["stream"]["job"], "forcepipe");
  EXPECT_FALSE(s["stream"].contains("user_id"));
  EXPECT_EQ(s["values"][0][0], "5");
  EXPECT_EQ(s["values"][0][1], "bad\xef\xbf\xbd utf8");
  EXPECT_EQ(s["values"][1][0], "1700000000000000001");
  EXPECT_EQ(s["values"][1][1], "{\"x\":1}\t\x01");
  EXPECT_EQ(s["values"][1][2]["event_id"], "e1");
  EXPECT_EQ(s["values"][1][2]["user_id"], "u1");
}

TEST_F(EncoderTest, JsonGzipInflatesToTheSameJson) {
  auto l = Labels({{"source", "s"}});
  Batch b;
  for (int i = 0; i < 100; ++i) b.entries.push_back(MakeEntry(l, i, "line " + std::to_string(i)));
  plan_.Build(b, policy_, kDefaultMaxLineBytes);
  Encoder plain({.encoding = Encoding::kJson});
  Encoder gz({.encoding = Encoding::kJson, .json_compression = Compression::kGzip});
  auto idx = All(b);
  std::string want(plain.Encode(b, plan_, idx).data);
  auto body = gz.Encode(b, plan_, idx);
  EXPECT_EQ(body.content_encoding, "gzip");
  EXPECT_LT(body.data.size(), want.size());
  EXPECT_EQ(Gunzip(body.data), want);
  EXPECT_EQ(Gunzip(gz.Encode(b, plan_, idx).data), want);  // reused deflate state
}

TEST_F(EncoderTest, EncodingAllocatesNothingPerEntry) {
  std::vector<LabelSetRef> sets = {Labels({{"source", "s"}, {"event_type", "A"}, {"u", "1"}}),
                                   Labels({{"source", "s"}, {"event_type", "B"}})};
  auto make = [&](int n) {
    Batch b;
    for (int i = 0; i < n; ++i) {
      b.entries.push_back(MakeEntry(sets[i % 2], n - i, std::string(300, 'x'),
                                    {{"event_id", std::to_string(i)}, {"a", "b"}}));
    }
    return b;
  };
  Batch small = make(100), big = make(2000);
  auto small_idx = All(small), big_idx = All(big);
  Encoder enc({});
  auto count = [&](const Batch& b, const std::vector<uint32_t>& idx) {
    g_allocations = 0;
    g_counting = true;
    plan_.Build(b, policy_, kDefaultMaxLineBytes);
    enc.Encode(b, plan_, idx);
    g_counting = false;
    return g_allocations.load();
  };
  // The counter works: a fresh batch's first plan allocates.
  g_allocations = 0;
  g_counting = true;
  BatchPlan fresh;
  fresh.Build(big, policy_, kDefaultMaxLineBytes);
  g_counting = false;
  ASSERT_GT(g_allocations.load(), 0u);
  count(big, big_idx);  // warm-up: buffers grow once
  size_t for_small = count(small, small_idx);
  size_t for_big = count(big, big_idx);
  EXPECT_EQ(for_small, for_big) << "allocations grow with the entry count";
  EXPECT_LT(for_big, 64u);

  // Same, when every entry carries its own (equal) copy of its label set.
  for (Batch* b : {&small, &big}) {
    for (auto& e : b->entries) e.labels = Labels(*e.labels);
  }
  count(big, big_idx);
  EXPECT_EQ(count(small, small_idx), count(big, big_idx));
  EXPECT_LT(count(big, big_idx), 64u);
}

// Randomised round trip (fixed seed): random label values with escapes and
// UTF-8, random lines, metadata, timestamps and caps; decoded with the
// generated classes and checked entry by entry against the input.
TEST_F(EncoderTest, RandomBatchesRoundTripThroughTheGeneratedDecoder) {
  std::mt19937_64 rng(20261121);
  const std::vector<std::string> pieces = {"a", "Z", "_", " ", "\"", "\\", "\n", "{",
                                           "}", "=", ",", "é", "€",  "𝄞",  "\t", "0"};
  auto text = [&](size_t max_pieces) {
    std::string out;
    size_t n = rng() % (max_pieces + 1);
    for (size_t i = 0; i < n; ++i) out += pieces[rng() % pieces.size()];
    return out;
  };
  const std::vector<std::string> names = {"source",  "event_type",  "org",   "sf_org_id",
                                          "user_id", "environment", "custom"};
  for (int round = 0; round < 30; ++round) {
    std::vector<LabelSetRef> sets;
    for (int s = 0; s < 4; ++s) {
      LabelSet l;
      for (const auto& name : names) {
        if (rng() % 2) l.push_back({name, text(4)});
      }
      sets.push_back(Labels(std::move(l)));
    }
    Batch b;
    size_t n = 1 + rng() % 60;
    for (size_t i = 0; i < n; ++i) {
      std::vector<Label> md;
      for (size_t k = rng() % 4; k > 0; --k) md.push_back({text(3), text(5)});
      int64_t ts = int64_t(rng() % 4'000'000'000'000ULL) - 2'000'000'000'000LL;
      b.entries.push_back(MakeEntry(sets[rng() % sets.size()], ts,
                                    "id" + std::to_string(i) + "|" + text(rng() % 2 ? 10 : 200),
                                    std::move(md)));
    }
    size_t max_line = 64 + rng() % 400;
    plan_.Build(b, policy_, max_line);
    Encoder enc({.max_line_bytes = max_line});
    auto idx = All(b);
    std::vector<loki_test::ReceivedEntry> got;
    size_t message_bytes = 0;
    auto body = enc.Encode(b, plan_, idx);
    ASSERT_TRUE(loki_test::DecodePush(body.data, body.content_type, &got, &message_bytes).ok());
    ASSERT_EQ(got.size(), n);
    std::set<size_t> seen;
    for (size_t g = 0; g < got.size(); ++g) {
      const auto& r = got[g];
      size_t id = std::stoul(r.line.substr(2, r.line.find('|') - 2));
      ASSERT_TRUE(seen.insert(id).second);
      const Entry& e = b.entries[id];
      EXPECT_EQ(r.timestamp_ns, e.timestamp_ns);
      CappedLine c = CapLine(e.line, max_line);
      EXPECT_EQ(r.line,
                std::string(c.prefix) + (c.truncated ? std::string(kTruncationMarker) : ""));
      EXPECT_LE(r.line.size(), max_line);
      EXPECT_TRUE(IsValidUtf8(r.line));
      std::vector<std::pair<std::string, std::string>> md;
      for (const auto& l : e.structured_metadata) md.emplace_back(l.name, l.value);
      for (const auto& l : *e.labels) {
        if (!IsAllowedLabel(l.name)) md.emplace_back(l.name, l.value);
      }
      EXPECT_EQ(r.metadata, md);
      for (const auto& l : *e.labels) {
        if (IsAllowedLabel(l.name) && !l.value.empty()) EXPECT_EQ(r.label_map.at(l.name), l.value);
      }
      EXPECT_EQ(r.label_map.at("environment"),
                e.LabelValue("environment").empty() ? "test" : e.LabelValue("environment"));
      // Within a stream, timestamps never go backwards.
      if (g > 0 && got[g - 1].labels == r.labels) {
        EXPECT_LE(got[g - 1].timestamp_ns, r.timestamp_ns);
      }
    }
  }
}

TEST(LokiReceiverDecode, ParseLabelSetRejectsMalformed) {
  EXPECT_FALSE(loki_test::ParseLabelSet("{a=\"b\"").ok());
  EXPECT_FALSE(loki_test::ParseLabelSet("{a=b}").ok());
  EXPECT_FALSE(loki_test::ParseLabelSet("{a=\"x\ny\"}").ok());
  EXPECT_FALSE(loki_test::ParseLabelSet("{a=\"1\", a=\"2\"}").ok());
  auto ok = loki_test::ParseLabelSet("{a=\"1\", b=\"\\\"\"}");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->at("b"), "\"");
}

}  // namespace
}  // namespace forcepipe::loki
