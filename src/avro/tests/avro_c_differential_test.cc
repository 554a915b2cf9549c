// Differential test against Apache avro-c (Debian libavro-dev): random schemas and
// random data, encoded by us and read by avro-c, and written by avro-c and decoded by
// us, compared value by value (and byte for byte between the two encoders).

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "avro/decoder.h"
#include "avro/encoder.h"
#include "avro/schema.h"
#include "avro/tests/avro_c_shim.h"
#include "avro/tests/random_avro.h"
#include "avro/value.h"
#include "testing/testdata.h"

namespace forcepipe::avro {
namespace {

using avroc::Datum;
using avroc::Kind;

Datum ToDatum(const Schema& s, const Value& v) {
  Datum d;
  d.kind = static_cast<Kind>(static_cast<int>(v.type()));
  switch (v.type()) {
    case Type::kBoolean:
    case Type::kInt:
    case Type::kLong:
    case Type::kEnum:
      d.i = v.as_long();
      break;
    case Type::kFloat:
      d.f = v.as_float();
      break;
    case Type::kDouble:
      d.d = v.as_double();
      break;
    case Type::kBytes:
    case Type::kString:
    case Type::kFixed:
      d.bytes = v.str();
      break;
    case Type::kRecord:
      for (size_t i = 0; i < s.fields().size(); ++i) {
        d.keys.push_back(s.fields()[i].name);
        d.kids.push_back(ToDatum(*s.fields()[i].type, v.field(i)));
      }
      break;
    case Type::kArray:
    case Type::kMap:
      for (const Value& item : v.children()) d.kids.push_back(ToDatum(s.items(), item));
      d.keys = v.map_keys();
      break;
    case Type::kUnion:
      d.i = static_cast<int64_t>(v.branch());
      d.kids.push_back(ToDatum(*s.branches()[v.branch()], v.union_value()));
      break;
    case Type::kNull:
      break;
  }
  return d;
}

// Checks record field names against the schema as it converts.
Value FromDatum(const Schema& s, const Datum& d, std::string* error) {
  if (static_cast<int>(d.kind) != static_cast<int>(s.type())) {
    *error += " kind mismatch at " + std::string(TypeName(s.type()));
    return Value::Null();
  }
  switch (s.type()) {
    case Type::kNull:
      return Value::Null();
    case Type::kBoolean:
      return Value::Bool(d.i != 0);
    case Type::kInt:
      return Value::Int(static_cast<int32_t>(d.i));
    case Type::kLong:
      return Value::Long(d.i);
    case Type::kEnum:
      return Value::Enum(static_cast<size_t>(d.i));
    case Type::kFloat:
      return Value::Float(d.f);
    case Type::kDouble:
      return Value::Double(d.d);
    case Type::kBytes:
      return Value::Bytes(d.bytes);
    case Type::kString:
      return Value::String(d.bytes);
    case Type::kFixed:
      return Value::Fixed(d.bytes);
    case Type::kRecord: {
      std::vector<Value> fields;
      for (size_t i = 0; i < d.kids.size() && i < s.fields().size(); ++i) {
        if (d.keys[i] != s.fields()[i].name) *error += " field name " + d.keys[i];
        fields.push_back(FromDatum(*s.fields()[i].type, d.kids[i], error));
      }
      return Value::Record(std::move(fields));
    }
    case Type::kArray: {
      std::vector<Value> items;
      for (const Datum& k : d.kids) items.push_back(FromDatum(s.items(), k, error));
      return Value::Array(std::move(items));
    }
    case Type::kMap: {
      std::vector<Value> items;
      for (const Datum& k : d.kids) items.push_back(FromDatum(s.values(), k, error));
      return Value::Map(d.keys, std::move(items));
    }
    case Type::kUnion:
      if (d.i < 0 || static_cast<size_t>(d.i) >= s.branches().size() || d.kids.size() != 1) {
        *error += " bad union";
        return Value::Null();
      }
      return Value::Union(static_cast<size_t>(d.i),
                          FromDatum(*s.branches()[static_cast<size_t>(d.i)], d.kids[0], error));
  }
  return Value::Null();
}

// Runs both directions for `count` random values of `schema_json`.
void Differential(const std::string& schema_json, testing::RandomAvro* rnd, int count,
                  const std::string& what) {
  auto parsed = ParseSchema(schema_json);
  ASSERT_TRUE(parsed.ok()) << what << ": " << parsed.status().ToString();
  std::shared_ptr<const Schema> schema = *parsed;
  auto decoder = Decoder::Create(schema);
  ASSERT_TRUE(decoder.ok());
  std::string error;
  auto codec = avroc::Codec::Create(schema_json, &error);
  ASSERT_NE(codec, nullptr) << what << ": avro-c rejects the schema: " << error << "\n"
                            << schema_json;

  for (int i = 0; i < count; ++i) {
    Value v = rnd->ValueFor(*schema);
    std::string ours;
    ASSERT_TRUE(Encode(*schema, v, &ours).ok()) << what;

    // ours -> avro-c
    Datum read;
    ASSERT_TRUE(codec->Read(ours, &read, &error))
        << what << ": avro-c cannot read our encoding: " << error << "\n"
        << v.DebugString();
    std::string conv_error;
    Value theirs_view = FromDatum(*schema, read, &conv_error);
    ASSERT_EQ(conv_error, "") << what;
    ASSERT_EQ(theirs_view, v) << what << "\n"
                              << schema_json << "\navro-c: " << theirs_view.DebugString()
                              << "\nours:   " << v.DebugString();

    // avro-c -> ours
    std::string theirs;
    ASSERT_TRUE(codec->Write(ToDatum(*schema, v), &theirs, &error)) << what << ": " << error;
    EXPECT_EQ(theirs, ours) << what << ": encodings differ\n" << v.DebugString();
    auto back = (*decoder)->Decode(theirs);
    ASSERT_TRUE(back.ok()) << what << ": " << back.status().ToString();
    ASSERT_EQ(*back, v) << what << "\n" << back->DebugString() << "\n" << v.DebugString();
    std::string json;
    ASSERT_TRUE((*decoder)->DecodeToJson(theirs, &json).ok()) << what;
  }
}

TEST(AvroCDifferential, RandomSchemasAndData) {
  for (uint64_t seed = 1; seed <= 3000; ++seed) {
    testing::RandomAvro rnd(seed * 7919);
    std::string schema = rnd.Schema();
    Differential(schema, &rnd, 20, "seed " + std::to_string(seed));
    if (::testing::Test::HasFailure()) return;
  }
}

TEST(AvroCDifferential, SharedSalesforceSchemas) {
  testing::RandomAvro rnd(2024);
  int n = 0;
  for (const char* file : {"AccountChangeEvent.json", "ContactChangeEvent.json",
                           "Some_Custom_Object__ChangeEvent.json", "Order_Event__e.json",
                           "Low_Ink__e.compact.json", "Test_Event__e.json"}) {
    Differential(forcepipe::testing::ReadTestData(std::string("schemas/") + file), &rnd, 100, file);
    if (::testing::Test::HasFailure()) return;
    ++n;
  }
  EXPECT_EQ(n, 6);
}

}  // namespace
}  // namespace forcepipe::avro
