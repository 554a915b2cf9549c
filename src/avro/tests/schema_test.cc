#include "avro/schema.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "testing/testdata.h"

namespace forcepipe::avro {
namespace {

std::string ReadSchemaFile(const std::string& name) {
  return forcepipe::testing::ReadTestData("schemas/" + name);
}

std::shared_ptr<const Schema> MustParse(std::string_view json) {
  auto r = ParseSchema(json);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : nullptr;
}

TEST(SchemaId, MatchesSalesforceCapturedIds) {
  const std::pair<const char*, const char*> kCases[] = {
      {"Low_Ink__e.compact.json", "5E5OtZj5_Gm6Vax9XMXH9A"},
      {"CM_Test_Event_Two__e.json", "K98aAtiNFBjA-PJlcvaQ2g"},
      {"Test_Event__e.json", "6L0yfG1TjHj3IeYaje5uZQ"},
      {"Order_Event__e.json", "_CADE3qaegX3ECEW0rlbYA"},
  };
  for (const auto& [file, id] : kCases) {
    std::string text = ReadSchemaFile(file);
    ASSERT_FALSE(text.empty()) << file;
    auto s = MustParse(text);
    ASSERT_NE(s, nullptr) << file;
    EXPECT_EQ(SchemaId(*s), id) << file << "\n" << CanonicalForm(*s);
  }
}

TEST(ParseSchema, ParsesEverySharedSchema) {
  int n = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(forcepipe::testing::TestDataPath("schemas"))) {
    std::string file = entry.path().filename().string();
    if (entry.path().extension() != ".json" || file.find("sample") != std::string::npos) continue;
    auto r = ParseSchema(ReadSchemaFile(file));
    EXPECT_TRUE(r.ok()) << file << ": " << r.status().ToString();
    ++n;
  }
  EXPECT_GE(n, 9);
}

TEST(ParseSchema, AccountChangeEventShape) {
  auto s = MustParse(ReadSchemaFile("AccountChangeEvent.json"));
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->type(), Type::kRecord);
  EXPECT_EQ(s->full_name(), "com.sforce.eventbus.AccountChangeEvent");
  ASSERT_FALSE(s->fields().empty());
  const Field& header = s->fields()[0];
  EXPECT_EQ(header.name, "ChangeEventHeader");
  EXPECT_EQ(header.doc, "Data:ComplexValueType");
  EXPECT_EQ(header.type->full_name(), "com.sforce.eventbus.ChangeEventHeader");
  const Field* ct = header.type->FindField("changeType");
  ASSERT_NE(ct, nullptr);
  EXPECT_EQ(ct->index, 2u);
  EXPECT_EQ(ct->type->type(), Type::kEnum);
  EXPECT_EQ(ct->type->full_name(), "com.sforce.eventbus.ChangeType");
  EXPECT_EQ(ct->type->symbols().back(), "SNAPSHOT");
  EXPECT_EQ(header.type->FindField("recordIds")->type->items().type(), Type::kString);

  const Field* name = s->FindField("Name");
  ASSERT_NE(name, nullptr);
  ASSERT_EQ(name->type->type(), Type::kUnion);
  ASSERT_EQ(name->type->branches().size(), 3u);
  EXPECT_EQ(name->type->null_branch(), 0);
  EXPECT_EQ(name->type->branches()[2]->full_name(), "com.sforce.eventbus.Switchable_PersonName");
  ASSERT_TRUE(name->default_json.has_value());
  EXPECT_EQ(*name->default_json, "null");

  // Address is defined once and referenced by name later: the same node.
  const Field* billing = s->FindField("BillingAddress");
  const Field* shipping = s->FindField("ShippingAddress");
  ASSERT_NE(billing, nullptr);
  ASSERT_NE(shipping, nullptr);
  EXPECT_EQ(billing->type->branches()[1], shipping->type->branches()[1]);
  EXPECT_EQ(billing->type->branches()[1]->full_name(), "com.sforce.eventbus.Address");
}

TEST(ParseSchema, EmptyNamespaceMeansNoNamespace) {
  auto s = MustParse(ReadSchemaFile("AccountChangeEvent.2023.json"));
  ASSERT_NE(s, nullptr);
  const Schema* header = s->fields()[0].type;
  EXPECT_EQ(header->FindField("changeType")->type->full_name(), "ChangeType");
  EXPECT_NE(CanonicalForm(*s).find("{\"name\":\"ChangeType\",\"type\":\"enum\""),
            std::string::npos);
}

TEST(ParseSchema, ExpandedRecordParsesAsRecord) {
  auto s = MustParse(ReadSchemaFile("Low_Ink__e.expanded.json"));
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->type(), Type::kRecord);
  EXPECT_TRUE(s->expanded_record());
  EXPECT_EQ(s->fields()[0].type->full_name(), "Data");
  // Payload has no namespace of its own: it inherits Data's empty one.
  EXPECT_EQ(s->fields()[0].type->fields()[1].type->full_name(), "Payload");
}

TEST(CanonicalForm, FollowsSpecRules) {
  auto s = MustParse(R"({
    "type": "record", "name": "R", "namespace": "a.b", "doc": "drop me",
    "aliases": ["X"], "fields": [
      {"name": "f1", "type": {"type": "long", "logicalType": "timestamp-millis"}, "default": 0},
      {"name": "f2", "type": {"type": "enum", "name": "E", "symbols": ["A", "B"]}},
      {"name": "f3", "type": ["null", "E", {"type": "fixed", "name": "c.F", "size": 16}]},
      {"name": "f4", "type": {"type": "map", "values": {"type": "array", "items": "c.F"}}},
      {"name": "f5", "type": ["null", "R"]}
    ]})");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(CanonicalForm(*s),
            R"({"name":"a.b.R","type":"record","fields":[{"name":"f1","type":"long"},)"
            R"({"name":"f2","type":{"name":"a.b.E","type":"enum","symbols":["A","B"]}},)"
            R"({"name":"f3","type":["null","a.b.E",{"name":"c.F","type":"fixed","size":16}]},)"
            R"({"name":"f4","type":{"type":"map","values":{"type":"array","items":"c.F"}}},)"
            R"({"name":"f5","type":["null","a.b.R"]}]})");
  EXPECT_EQ(s->fields()[0].type->logical_type(), "timestamp-millis");
  EXPECT_EQ(*s->fields()[0].default_json, "0");
}

TEST(CanonicalForm, PrimitiveObjectBecomesString) {
  auto s = MustParse(R"({"type":"string"})");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(CanonicalForm(*s), "\"string\"");
}

TEST(ParseSchema, RejectsInvalidSchemas) {
  const char* kBad[] = {
      "",
      "{",
      "42",
      R"("Nope")",
      R"({"type":"record","name":"R"})",
      R"({"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"a","type":"int"}]})",
      R"({"type":"record","name":"R","fields":[{"name":"a"}]})",
      R"({"type":"record","name":"1R","fields":[]})",
      R"({"type":"enum","name":"E","symbols":["A","A"]})",
      R"({"type":"enum","name":"E","symbols":["A-B"]})",
      R"({"type":"fixed","name":"F","size":-1})",
      R"({"type":"array"})",
      R"(["null","null"])",
      R"(["int",["string"]])",
      R"([{"type":"fixed","name":"F","size":1},{"type":"fixed","name":"F","size":1}])",
      R"({"type":"record","name":"R","fields":[{"name":"a","type":"Unknown"}]})",
      R"({"type":"bogus"})",
  };
  for (const char* bad : kBad) {
    auto r = ParseSchema(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    }
  }
}

TEST(ParseSchema, RejectsDeepNesting) {
  std::string deep;
  for (int i = 0; i < 500; ++i) deep += R"({"type":"array","items":)";
  deep += "\"int\"";
  for (int i = 0; i < 500; ++i) deep += "}";
  EXPECT_FALSE(ParseSchema(deep).ok());
}

TEST(ParseSchema, ResolvesNamesAcrossNamespaces) {
  auto s = MustParse(R"({"type":"record","name":"a.R","fields":[
      {"name":"x","type":{"type":"record","name":"Inner","namespace":"b","fields":[
          {"name":"y","type":{"type":"enum","name":"E","symbols":["Z"]}}]}},
      {"name":"e1","type":"b.E"},
      {"name":"i","type":"b.Inner"},
      {"name":"self","type":["null","R"]}]})");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->fields()[0].type->full_name(), "b.Inner");
  EXPECT_EQ(s->fields()[1].type->full_name(), "b.E");
  EXPECT_EQ(s->fields()[2].type, s->fields()[0].type);
  EXPECT_EQ(s->fields()[3].type->branches()[1], s.get());
  // "E" alone does not resolve from namespace a.
  EXPECT_FALSE(ParseSchema(R"({"type":"record","name":"a.R","fields":[
      {"name":"x","type":{"type":"enum","name":"b.E","symbols":["Z"]}},
      {"name":"y","type":"E"}]})")
                   .ok());
}

}  // namespace
}  // namespace forcepipe::avro
