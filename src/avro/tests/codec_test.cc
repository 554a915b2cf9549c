#include <gtest/gtest.h>

#include <atomic>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <new>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "avro/decoder.h"
#include "avro/encoder.h"
#include "avro/json_value.h"
#include "avro/schema.h"
#include "avro/tests/random_avro.h"
#include "avro/value.h"
#include "core/base64.h"
#include "testing/testdata.h"

// Counts heap allocations so tests can assert the decode hot path makes none.
static std::atomic<long> g_allocations{0};
void* operator new(size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace forcepipe::avro {
namespace {

using Json = nlohmann::json;

std::shared_ptr<const Schema> MustParse(std::string_view json) {
  auto r = ParseSchema(json);
  EXPECT_TRUE(r.ok()) << r.status().ToString() << "\n" << json;
  return r.ok() ? *r : nullptr;
}

std::unique_ptr<Decoder> MustDecoder(std::shared_ptr<const Schema> s) {
  auto r = Decoder::Create(std::move(s));
  EXPECT_TRUE(r.ok());
  return std::move(r).value();
}

std::string Hex(std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

std::string Latin1ToUtf8(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

// Independent reference for DecodeToJson, built with nlohmann from a Value.
Json ExpectedJson(const Schema& s, const Value& v) {
  switch (s.type()) {
    case Type::kNull:
      return nullptr;
    case Type::kBoolean:
      return v.as_bool();
    case Type::kInt:
    case Type::kLong:
      return v.as_long();
    case Type::kFloat: {
      char buf[32];
      auto r = std::to_chars(buf, buf + sizeof buf, v.as_float());
      return std::strtod(std::string(buf, r.ptr).c_str(), nullptr);
    }
    case Type::kDouble:
      return v.as_double();
    case Type::kString:
      return v.str();
    case Type::kBytes:
    case Type::kFixed:
      return Latin1ToUtf8(v.str());
    case Type::kEnum:
      return s.symbols()[v.enum_index()];
    case Type::kRecord: {
      Json o = Json::object();
      for (size_t i = 0; i < s.fields().size(); ++i) {
        o[s.fields()[i].name] = ExpectedJson(*s.fields()[i].type, v.field(i));
      }
      return o;
    }
    case Type::kArray: {
      Json a = Json::array();
      for (const Value& item : v.children()) a.push_back(ExpectedJson(s.items(), item));
      return a;
    }
    case Type::kMap: {
      Json o = Json::object();
      for (size_t i = 0; i < v.children().size(); ++i) {
        o[v.map_keys()[i]] = ExpectedJson(s.values(), v.children()[i]);
      }
      return o;
    }
    case Type::kUnion:
      return ExpectedJson(*s.branches()[v.branch()], v.union_value());
  }
  return nullptr;
}

// Encodes `v`, decodes it both ways and checks both against `v`.
void CheckRoundTrip(const std::shared_ptr<const Schema>& schema, const Decoder& decoder,
                    const Value& v, const std::string& what) {
  std::string bytes;
  Status st = Encode(*schema, v, &bytes);
  ASSERT_TRUE(st.ok()) << what << ": " << st.ToString() << "\n" << v.DebugString();
  auto decoded = decoder.Decode(bytes);
  ASSERT_TRUE(decoded.ok()) << what << ": " << decoded.status().ToString();
  EXPECT_EQ(*decoded, v) << what << "\nwant " << v.DebugString() << "\ngot  "
                         << decoded->DebugString();
  std::string json;
  st = decoder.DecodeToJson(bytes, &json);
  ASSERT_TRUE(st.ok()) << what << ": " << st.ToString();
  Json parsed = Json::parse(json, nullptr, false);
  ASSERT_FALSE(parsed.is_discarded()) << what << ": invalid JSON " << json;
  EXPECT_EQ(parsed, ExpectedJson(*schema, v)) << what << "\n" << json;
}

TEST(Encoder, MatchesSpecByteVectors) {
  const std::pair<int64_t, const char*> kLongs[] = {
      {0, "00"},
      {-1, "01"},
      {1, "02"},
      {-2, "03"},
      {2, "04"},
      {-64, "7f"},
      {64, "8001"},
      {std::numeric_limits<int64_t>::max(), "feffffffffffffffff01"},
      {std::numeric_limits<int64_t>::min(), "ffffffffffffffffff01"}};
  for (const auto& [v, hex] : kLongs) {
    std::string out;
    AppendLong(v, &out);
    EXPECT_EQ(Hex(out), hex) << v;
  }
  auto s = MustParse(R"({"type":"record","name":"R","fields":[
      {"name":"s","type":"string"},{"name":"u","type":["null","string"]},
      {"name":"a","type":{"type":"array","items":"long"}},{"name":"d","type":"double"}]})");
  std::string out;
  ASSERT_TRUE(
      Encode(*s,
             Value::Record({Value::String("foo"), Value::String("x"),
                            Value::Array({Value::Long(3), Value::Long(27)}), Value::Double(1.0)}),
             &out)
          .ok());
  EXPECT_EQ(Hex(out),
            "06666f6f"
            "020278"
            "04063600"
            "000000000000f03f");
}

TEST(Encoder, RejectsMismatchedValues) {
  auto s = MustParse(R"({"type":"record","name":"R","fields":[
      {"name":"i","type":"int"},{"name":"e","type":{"type":"enum","name":"E","symbols":["A"]}},
      {"name":"f","type":{"type":"fixed","name":"F","size":2}},
      {"name":"u","type":["null","string"]}]})");
  auto rec = [](Value i, Value e, Value f, Value u) {
    return Value::Record({std::move(i), std::move(e), std::move(f), std::move(u)});
  };
  std::string out;
  EXPECT_TRUE(
      Encode(*s, rec(Value::Int(1), Value::Enum(0), Value::Fixed("ab"), Value::Null()), &out).ok());
  EXPECT_FALSE(
      Encode(*s, rec(Value::Long(1), Value::Enum(0), Value::Fixed("ab"), Value::Null()), &out)
          .ok());
  EXPECT_FALSE(
      Encode(*s, rec(Value::Int(1), Value::Enum(1), Value::Fixed("ab"), Value::Null()), &out).ok());
  EXPECT_FALSE(
      Encode(*s, rec(Value::Int(1), Value::Enum(0), Value::Fixed("abc"), Value::Null()), &out)
          .ok());
  EXPECT_FALSE(
      Encode(*s, rec(Value::Int(1), Value::Enum(0), Value::Fixed("ab"), Value::Long(2)), &out)
          .ok());
  EXPECT_FALSE(
      Encode(*s,
             rec(Value::Int(1), Value::Enum(0), Value::Fixed("ab"), Value::Union(2, Value::Null())),
             &out)
          .ok());
  EXPECT_FALSE(Encode(*s, Value::Record({Value::Int(1)}), &out).ok());
}

TEST(Codec, RoundTripsEverySharedSchema) {
  testing::RandomAvro rnd(42);
  int schemas = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(forcepipe::testing::TestDataPath("schemas"))) {
    std::string file = entry.path().filename().string();
    if (entry.path().extension() != ".json" || file.find("sample") != std::string::npos) continue;
    auto schema = MustParse(forcepipe::testing::ReadTestData("schemas/" + file));
    ASSERT_NE(schema, nullptr) << file;
    auto decoder = MustDecoder(schema);
    for (int i = 0; i < 200; ++i) {
      CheckRoundTrip(schema, *decoder, rnd.ValueFor(*schema), file + " #" + std::to_string(i));
      if (::testing::Test::HasFailure()) return;
    }
    ++schemas;
  }
  EXPECT_GE(schemas, 9);
}

TEST(Codec, RoundTripsRandomSchemas) {
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    testing::RandomAvro rnd(seed);
    std::string text = rnd.Schema();
    auto schema = MustParse(text);
    ASSERT_NE(schema, nullptr) << "seed " << seed;
    // Canonical form is itself a schema with the same canonical form.
    auto again = MustParse(CanonicalForm(*schema));
    ASSERT_NE(again, nullptr);
    EXPECT_EQ(CanonicalForm(*again), CanonicalForm(*schema));
    auto decoder = MustDecoder(schema);
    for (int i = 0; i < 20; ++i) {
      CheckRoundTrip(schema, *decoder, rnd.ValueFor(*schema),
                     "seed " + std::to_string(seed) + " schema " + text);
      if (::testing::Test::HasFailure()) return;
    }
  }
}

TEST(Decoder, JsonEscapesAndUnwrapsUnions) {
  auto s = MustParse(R"({"type":"record","name":"R","fields":[
      {"name":"s","type":"string"},{"name":"b","type":"bytes"},
      {"name":"l","type":"long"},{"name":"u","type":["null","long","string"]},
      {"name":"n","type":["null","string"]},
      {"name":"e","type":{"type":"enum","name":"E","symbols":["CREATE","UPDATE"]}},
      {"name":"m","type":{"type":"map","values":"int"}},
      {"name":"f","type":"float"},{"name":"d","type":"double"}]})");
  auto d = MustDecoder(s);
  std::string bytes;
  ASSERT_TRUE(
      Encode(
          *s,
          Value::Record({Value::String(std::string("a\"\\\n\x01\x7f\xc3\xa9\xff\xed\xa0\x80z", 13)),
                         Value::Bytes(std::string("\x00\xff\"", 3)),
                         Value::Long(std::numeric_limits<int64_t>::max()),
                         Value::Union(1, Value::Long(-9007199254740993LL)), Value::Null(),
                         Value::Enum(1), Value::Map({"k\t"}, {Value::Int(-5)}), Value::Float(0.1f),
                         Value::Double(std::numeric_limits<double>::quiet_NaN())}),
          &bytes)
          .ok());
  std::string json = "stale";
  ASSERT_TRUE(d->DecodeToJson(bytes, &json).ok());
  EXPECT_EQ(
      json,
      "{\"s\":\"a\\\"\\\\\\n\\u0001\x7f\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz\","
      "\"b\":\"\\u0000\xc3\xbf\\\"\",\"l\":9223372036854775807,\"u\":-9007199254740993,"
      "\"n\":null,\"e\":\"UPDATE\",\"m\":{\"k\\t\":-5},\"f\":0.1,\"d\":\"NaN\"}");
}

// Strings whose characters needing escapes (or multi-byte UTF-8) sit at every
// offset relative to the 8-byte words the fast scan reads: the JSON must parse
// back to exactly the original text.
TEST(Decoder, JsonStringsRoundTripAtEveryWordOffset) {
  auto s = MustParse(R"({"type":"record","name":"R","fields":[{"name":"s","type":"string"}]})");
  auto d = MustDecoder(s);
  const std::vector<std::string> specials = {
      "\"",   "\\",       "\n",           std::string("\x00", 1), "\x1f",
      "\x7f", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",     " ",
      "~"};
  std::mt19937_64 rng(42);
  for (int iter = 0; iter < 20000; ++iter) {
    std::string text;
    size_t len = rng() % 70;
    while (text.size() < len) {
      if (rng() % 6 == 0) {
        text += specials[rng() % specials.size()];
      } else {
        text.push_back(static_cast<char>(0x20 + rng() % 95));
      }
    }
    std::string bytes, json;
    ASSERT_TRUE(Encode(*s, Value::Record({Value::String(text)}), &bytes).ok());
    ASSERT_TRUE(d->DecodeToJson(bytes, &json).ok());
    auto parsed = Json::parse(json, nullptr, false);
    ASSERT_FALSE(parsed.is_discarded()) << json;
    ASSERT_EQ(parsed["s"].get<std::string>(), text) << json;
  }
  // Invalid UTF-8 after a run of plain words still becomes U+FFFD.
  std::string bytes, json;
  ASSERT_TRUE(Encode(*s,
                     Value::Record({Value::String("0123456789abcdef\xff"
                                                  "0123456\xc3")}),
                     &bytes)
                  .ok());
  ASSERT_TRUE(d->DecodeToJson(bytes, &json).ok());
  EXPECT_EQ(json,
            "{\"s\":\"0123456789abcdef\xef\xbf\xbd"
            "0123456\xef\xbf\xbd\"}");
}

TEST(Decoder, RejectsEveryTruncationAndTrailingBytes) {
  auto s = MustParse(forcepipe::testing::ReadTestData("schemas/AccountChangeEvent.json"));
  auto d = MustDecoder(s);
  testing::RandomAvro rnd(7);
  for (int i = 0; i < 20; ++i) {
    std::string bytes;
    ASSERT_TRUE(Encode(*s, rnd.ValueFor(*s), &bytes).ok());
    std::string json;
    for (size_t n = 0; n < bytes.size(); ++n) {
      EXPECT_FALSE(d->DecodeToJson(std::string_view(bytes).substr(0, n), &json).ok()) << n;
      EXPECT_FALSE(d->Decode(std::string_view(bytes).substr(0, n)).ok()) << n;
    }
    Status st = d->DecodeToJson(bytes + '\0', &json);
    EXPECT_FALSE(st.ok());
    EXPECT_NE(st.message().find("trailing"), std::string::npos) << st.ToString();
    EXPECT_FALSE(d->Decode(bytes + '\0').ok());
  }
}

struct BadCase {
  const char* schema;
  std::string payload;
  const char* why;
};

TEST(Decoder, RejectsMalformedPayloads) {
  const BadCase kCases[] = {
      {R"(["null","string"])", std::string("\x04", 1), "union index 2"},
      {R"(["null","string"])", std::string("\x01", 1), "union index -1"},
      {R"("string")", std::string("\x01", 1), "negative length"},
      {R"("bytes")", std::string("\xfe\xff\xff\xff\x0f", 5), "huge length"},
      {R"("int")", std::string("\x80\x80\x80\x80\x20", 5), "int out of range"},
      {R"("long")", std::string(10, '\xff') + '\x01', "varint too long"},
      {R"("long")", std::string(9, '\xff') + '\x02', "varint overflow"},
      {R"("boolean")", std::string("\x02", 1), "bad boolean"},
      {R"({"type":"enum","name":"E","symbols":["A"]})", std::string("\x02", 1), "enum index"},
      {R"({"type":"array","items":"long"})", std::string("\xfe\xff\xff\xff\xff\xff\xff\xff\x7f", 9),
       "huge array count"},
      {R"({"type":"array","items":"null"})", std::string("\xfe\xff\xff\xff\xff\xff\xff\xff\x7f", 9),
       "huge count of zero-byte items"},
      {R"({"type":"array","items":"long"})", std::string("\x01\x7f", 2),
       "negative count, bad size"},
      {R"({"type":"map","values":"null"})", std::string("\x02\x00", 2), "map key missing"},
      {R"({"type":"fixed","name":"F","size":4})", std::string("abc", 3), "short fixed"},
      {R"("double")", std::string("1234567", 7), "short double"},
  };
  for (const auto& c : kCases) {
    auto d = MustDecoder(MustParse(c.schema));
    std::string json;
    EXPECT_FALSE(d->DecodeToJson(c.payload, &json).ok()) << c.why;
    auto v = d->Decode(c.payload);
    EXPECT_FALSE(v.ok()) << c.why;
    if (!v.ok()) {
      EXPECT_EQ(v.status().code(), StatusCode::kInvalidArgument) << c.why;
    }
  }
}

TEST(Decoder, AcceptsNegativeBlockCounts) {
  auto d = MustDecoder(MustParse(R"({"type":"array","items":"long"})"));
  // count -2, block size 2 bytes, items 1, 2, then end.
  std::string payload("\x03\x04\x02\x04\x00", 5);
  auto v = d->Decode(payload);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, Value::Array({Value::Long(1), Value::Long(2)}));
  std::string json;
  ASSERT_TRUE(d->DecodeToJson(payload, &json).ok());
  EXPECT_EQ(json, "[1,2]");
}

TEST(Decoder, RecursiveSchemaDecodesAndDeepNestingFails) {
  auto s = MustParse(R"({"type":"record","name":"Node","fields":[
      {"name":"v","type":"int"},{"name":"next","type":["null","Node"]}]})");
  auto d = MustDecoder(s);
  Value list = Value::Record({Value::Int(3), Value::Union(0, Value::Null())});
  for (int i = 2; i >= 1; --i) list = Value::Record({Value::Int(i), Value::Union(1, list)});
  std::string bytes;
  ASSERT_TRUE(Encode(*s, list, &bytes).ok());
  std::string json;
  ASSERT_TRUE(d->DecodeToJson(bytes, &json).ok());
  EXPECT_EQ(json, R"({"v":1,"next":{"v":2,"next":{"v":3,"next":null}}})");
  // 100k levels: rejected, no stack overflow.
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += std::string("\x02\x02", 2);
  deep += std::string("\x02\x00", 2);
  EXPECT_FALSE(d->DecodeToJson(deep, &json).ok());
  EXPECT_FALSE(d->Decode(deep).ok());
}

TEST(Decoder, DecodeIntoReusesValueAcrossShapes) {
  auto s = MustParse(forcepipe::testing::ReadTestData("schemas/AccountChangeEvent.json"));
  auto d = MustDecoder(s);
  testing::RandomAvro rnd(99);
  Value reused;
  for (int i = 0; i < 50; ++i) {
    Value v = rnd.ValueFor(*s);
    std::string bytes;
    ASSERT_TRUE(Encode(*s, v, &bytes).ok());
    ASSERT_TRUE(d->DecodeInto(bytes, &reused).ok());
    EXPECT_EQ(reused, v);
  }
}

TEST(Decoder, HotPathMakesNoHeapAllocations) {
  auto s = MustParse(forcepipe::testing::ReadTestData("schemas/AccountChangeEvent.json"));
  auto d = MustDecoder(s);
  testing::RandomAvro rnd(3);
  std::vector<std::string> payloads;
  for (int i = 0; i < 8; ++i) {
    std::string bytes;
    ASSERT_TRUE(Encode(*s, rnd.ValueFor(*s), &bytes).ok());
    payloads.push_back(std::move(bytes));
  }
  std::string json;
  json.reserve(1 << 16);
  std::vector<Value> values(payloads.size());
  for (size_t i = 0; i < payloads.size(); ++i) {  // warm up: buffers reach their sizes
    ASSERT_TRUE(d->DecodeToJson(payloads[i], &json).ok());
    ASSERT_TRUE(d->DecodeInto(payloads[i], &values[i]).ok());
  }
  long before = g_allocations.load();
  for (int round = 0; round < 10; ++round) {
    for (size_t i = 0; i < payloads.size(); ++i) {
      ASSERT_TRUE(d->DecodeToJson(payloads[i], &json).ok());
      ASSERT_TRUE(d->DecodeInto(payloads[i], &values[i]).ok());
    }
  }
  EXPECT_EQ(g_allocations.load() - before, 0);
}

TEST(Decoder, DecodesRealSalesforceHeader) {
  // The captured FetchResponse: its ChangeEventHeader decodes with the 2023 schema's
  // header record (the body was written with another schema version).
  Json fetch = Json::parse(forcepipe::testing::ReadTestData(
      "schemas/AccountChangeEvent.2023.sample-fetchresponse.json"));
  std::string b64 = fetch["events"][0]["event"]["payload"];
  auto decoded = Base64Decode(b64);
  ASSERT_TRUE(decoded.has_value()) << b64;
  const std::string raw = *decoded;
  auto full = MustParse(forcepipe::testing::ReadTestData("schemas/AccountChangeEvent.2023.json"));
  const Schema* header = full->fields()[0].type;
  // Re-parse the header alone from its canonical form (ChangeType has no namespace).
  auto header_schema = MustParse(CanonicalForm(*header));
  auto d = MustDecoder(header_schema);
  // Find the header's length: decode growing prefixes until one succeeds exactly.
  std::string json;
  bool found = false;
  for (size_t n = 1; n <= raw.size() && !found; ++n) {
    if (d->DecodeToJson(std::string_view(raw).substr(0, n), &json).ok()) found = true;
  }
  ASSERT_TRUE(found);
  Json h = Json::parse(json);
  EXPECT_EQ(h["entityName"], "Account");
  EXPECT_EQ(h["changeType"], "UPDATE");
  EXPECT_EQ(h["recordIds"].size(), 20u);
  EXPECT_EQ(h["changedFields"][0], "0x800000");
  EXPECT_TRUE(h["commitTimestamp"].is_number_integer());
}

}  // namespace
}  // namespace forcepipe::avro

namespace forcepipe::avro {
namespace {

TEST(ValueFromJson, InvertsDecodeToJsonOnSharedSchemas) {
  testing::RandomAvro rnd(5);
  for (const auto& entry :
       std::filesystem::directory_iterator(forcepipe::testing::TestDataPath("schemas"))) {
    std::string file = entry.path().filename().string();
    if (entry.path().extension() != ".json" || file.find("sample") != std::string::npos) continue;
    auto schema = MustParse(forcepipe::testing::ReadTestData("schemas/" + file));
    auto d = MustDecoder(schema);
    for (int i = 0; i < 50; ++i) {
      Value v = rnd.ValueFor(*schema);
      std::string bytes, json;
      ASSERT_TRUE(Encode(*schema, v, &bytes).ok());
      ASSERT_TRUE(d->DecodeToJson(bytes, &json).ok());
      auto back = ValueFromJson(*schema, json);
      ASSERT_TRUE(back.ok()) << file << ": " << back.status().ToString() << "\n" << json;
      EXPECT_EQ(*back, v) << file << "\n" << json;
    }
  }
}

TEST(ValueFromJson, RandomSchemasRenderTheSameJson) {
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    testing::RandomAvro rnd(seed);
    auto schema = MustParse(rnd.Schema());
    auto d = MustDecoder(schema);
    for (int i = 0; i < 10; ++i) {
      std::string bytes, json, bytes2, json2;
      ASSERT_TRUE(Encode(*schema, rnd.ValueFor(*schema), &bytes).ok());
      ASSERT_TRUE(d->DecodeToJson(bytes, &json).ok());
      auto back = ValueFromJson(*schema, json);
      ASSERT_TRUE(back.ok()) << "seed " << seed << ": " << back.status().ToString() << "\n" << json;
      ASSERT_TRUE(Encode(*schema, *back, &bytes2).ok());
      ASSERT_TRUE(d->DecodeToJson(bytes2, &json2).ok());
      EXPECT_EQ(json2, json) << "seed " << seed;
    }
  }
}

TEST(ValueFromJson, FillsDefaultsAndRejectsBadInput) {
  auto s = MustParse(R"({"type":"record","name":"E","fields":[
      {"name":"CreatedDate","type":"long"},
      {"name":"Msg","type":["null","string"],"default":null},
      {"name":"N","type":"int","default":7}]})");
  auto v = ValueFromJson(*s, R"({"CreatedDate": 9007199254740993})");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, Value::Record({Value::Long(9007199254740993LL), Value::Union(0, Value::Null()),
                               Value::Int(7)}));
  EXPECT_FALSE(ValueFromJson(*s, R"({})").ok());                                // no default
  EXPECT_FALSE(ValueFromJson(*s, R"({"CreatedDate":1,"Bogus":2})").ok());       // unknown key
  EXPECT_FALSE(ValueFromJson(*s, R"({"CreatedDate":1.5})").ok());               // not integer
  EXPECT_FALSE(ValueFromJson(*s, R"({"CreatedDate":1,"N":4294967296})").ok());  // int range
  EXPECT_FALSE(ValueFromJson(*s, R"({"CreatedDate":1,"Msg":3})").ok());         // no branch
  EXPECT_FALSE(ValueFromJson(*s, "[").ok());
}

}  // namespace
}  // namespace forcepipe::avro
