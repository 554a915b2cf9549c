// CDC header extraction and bitmap decoding on the shared real-shaped schemas and the real
// captured FetchResponse.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>

#include "avro/decoder.h"
#include "avro/encoder.h"
#include "avro/schema.h"
#include "core/base64.h"
#include "salesforce/cdc/change_event.h"
#include "salesforce/cdc/field_bitmap.h"
#include "testing/testdata.h"

namespace forcepipe::salesforce::cdc {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::shared_ptr<const avro::Schema> LoadSchema(const std::string& file) {
  auto s = avro::ParseSchema(forcepipe::testing::ReadTestData("schemas/" + file));
  EXPECT_TRUE(s.ok()) << file << ": " << s.status().ToString();
  return s.ok() ? *s : nullptr;
}

std::shared_ptr<const FieldMap> MustMap(const avro::Schema& s) {
  auto m = FieldMap::Build(s);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return *m;
}

// "0x..." with exactly `bits` set; upper-case digits when `upper`.
std::string Bitmap(const std::set<size_t>& bits, bool upper = true) {
  size_t top = bits.empty() ? 0 : *bits.rbegin();
  std::vector<int> nibbles(top / 4 + 1, 0);
  for (size_t b : bits) nibbles[b / 4] |= 1 << (b % 4);
  std::string out = "0x";
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  for (size_t k = nibbles.size(); k-- > 0;) out.push_back(digits[nibbles[k]]);
  return out;
}

std::vector<std::string> Decode(const FieldMap& m, std::vector<std::string> elements) {
  std::vector<std::string> out;
  Status s = m.DecodeNames(elements, &out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

const std::vector<std::string> kCdcSchemas = {
    "AccountChangeEvent.json", "AccountChangeEvent.2023.json", "ContactChangeEvent.json",
    "Some_Custom_Object__ChangeEvent.json"};

TEST(FieldBitmap, SpecExampleNamesFieldsFiveSixSevenTenAndMore) {
  auto s = LoadSchema("AccountChangeEvent.json");
  auto m = MustMap(*s);
  std::vector<std::string> want;
  for (size_t i : {5, 6, 7, 10, 24, 26, 29, 30}) want.push_back(s->fields()[i].name);
  EXPECT_EQ(Decode(*m, {"0x650004E0"}), want);
  EXPECT_EQ(Decode(*m, {"0x650004e0"}), want);
  EXPECT_EQ(want[0], "BillingAddress");
}

TEST(FieldBitmap, Bit23IsLastModifiedDate) {
  for (const char* file : {"AccountChangeEvent.json", "AccountChangeEvent.2023.json"}) {
    auto s = LoadSchema(file);
    EXPECT_THAT(Decode(*MustMap(*s), {"0x800000"}), ElementsAre("LastModifiedDate")) << file;
  }
}

TEST(FieldBitmap, EverySingleTopLevelBitNamesExactlyThatField) {
  for (const auto& file : kCdcSchemas) {
    auto s = LoadSchema(file);
    auto m = MustMap(*s);
    ASSERT_EQ(m->top_level_count(), s->fields().size());
    for (size_t i = 0; i < s->fields().size(); ++i) {
      EXPECT_THAT(Decode(*m, {Bitmap({i}, i % 2 == 0)}), ElementsAre(s->fields()[i].name))
          << file << " bit " << i;
    }
  }
}

TEST(FieldBitmap, RandomSubsetsNameExactlyTheFieldsSet) {
  std::mt19937_64 rng(42);
  for (const auto& file : kCdcSchemas) {
    auto s = LoadSchema(file);
    auto m = MustMap(*s);
    const size_t n = s->fields().size();
    for (int round = 0; round < 200; ++round) {
      std::set<size_t> bits;
      size_t count = rng() % (n + 1);
      for (size_t k = 0; k < count; ++k) bits.insert(rng() % n);
      std::vector<std::string> want;
      for (size_t b : bits) want.push_back(s->fields()[b].name);
      EXPECT_EQ(Decode(*m, {Bitmap(bits, round % 2 == 0)}), want) << file << " " << Bitmap(bits);
    }
  }
}

TEST(FieldBitmap, NestedElementsNameParentDotChildForEveryCompoundField) {
  for (const auto& file : kCdcSchemas) {
    auto s = LoadSchema(file);
    auto m = MustMap(*s);
    int compounds = 0;
    for (size_t p = 1; p < s->fields().size(); ++p) {
      const avro::Schema* rec = CompoundRecord(*s->fields()[p].type);
      if (!rec) {
        EXPECT_TRUE(m->nested(p).empty());
        continue;
      }
      ++compounds;
      for (size_t c = 0; c < rec->fields().size(); ++c) {
        const std::string element = std::to_string(p) + "-" + Bitmap({c});
        EXPECT_THAT(Decode(*m, {element}),
                    ElementsAre(s->fields()[p].name + "." + rec->fields()[c].name))
            << file << " " << element;
      }
    }
    EXPECT_GT(compounds, 0) << file;
  }
}

TEST(FieldBitmap, AccountNameThreeWayUnionUnwraps) {
  auto s = LoadSchema("AccountChangeEvent.json");
  auto m = MustMap(*s);
  ASSERT_EQ(s->fields()[1].name, "Name");
  ASSERT_EQ(s->fields()[1].type->branches().size(), 3u);
  EXPECT_THAT(Decode(*m, {"1-0x6"}), ElementsAre("Name.FirstName", "Name.LastName"));
}

TEST(FieldBitmap, TopLevelAndNestedElementsCombineInSchemaOrder) {
  auto s = LoadSchema("AccountChangeEvent.json");
  auto m = MustMap(*s);
  // BillingAddress (5) City (1) + Country (4); Name (1) itself; LastModifiedDate (23).
  EXPECT_THAT(Decode(*m, {"0x800002", "5-0x12", "1-0x1"}),
              ElementsAre("Name", "Name.Salutation", "BillingAddress.City",
                          "BillingAddress.Country", "LastModifiedDate"));
  // Duplicates collapse.
  EXPECT_THAT(Decode(*m, {"0x2", "0X2", "5-0x2", "5-0x02"}),
              ElementsAre("Name", "BillingAddress.City"));
  // Nested-only: the parent is not added.
  EXPECT_THAT(Decode(*m, {"5-0x3FF"}).size(), 10u);
  EXPECT_EQ(Decode(*m, {"5-0x3FF"})[0], "BillingAddress.Street");
}

TEST(FieldBitmap, OddDigitCountsAndLeadingZeros) {
  auto s = LoadSchema("ContactChangeEvent.json");
  auto m = MustMap(*s);
  EXPECT_THAT(Decode(*m, {"0x1"}), ElementsAre("ChangeEventHeader"));
  EXPECT_THAT(Decode(*m, {"0x102"}), ElementsAre(s->fields()[1].name, s->fields()[8].name));
  EXPECT_THAT(Decode(*m, {"0x00000000000000000002"}), ElementsAre(s->fields()[1].name));
  EXPECT_TRUE(Decode(*m, {"0x0"}).empty());
  EXPECT_TRUE(Decode(*m, {}).empty());
}

TEST(FieldBitmap, MalformedElementsAreErrors) {
  auto s = LoadSchema("AccountChangeEvent.json");
  auto m = MustMap(*s);
  const size_t n = s->fields().size();
  for (const std::string& bad :
       {std::string(""),
        std::string("0x"),
        std::string("x12"),
        std::string("12"),
        std::string("0xZZ"),
        std::string("0x1G"),
        std::string(" 0x1"),
        std::string("0x1 "),
        std::string("-0x1"),
        std::string("5-"),
        std::string("5-0x"),
        std::string("1a-0x1"),
        std::string("0x-1"),
        std::string("99999-0x1"),
        std::string("12345678-0x1"),
        std::string("2-0x1"),    // Type is not compound
        std::string("5-0x800"),  // Address has 10 fields: bit 11 is out of range
        std::string("1-0x8"),    // Switchable_PersonName has 3 fields
        std::string("5-5-0x1"),
        Bitmap({n}),
        "0x1" + std::string(40, '0')}) {
    std::vector<std::string> out = {"kept"};
    Status st = m->DecodeNames({"0x2", bad}, &out);
    EXPECT_FALSE(st.ok()) << "\"" << bad << "\"";
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(out, ElementsAre("kept")) << bad;
  }
  std::vector<FieldMap::FieldRef> refs;
  EXPECT_FALSE(m->DecodeRefs({"0x2", "0xQ"}, &refs).ok());
  EXPECT_TRUE(refs.empty());
}

TEST(FieldBitmap, RandomGarbageNeverCrashes) {
  auto s = LoadSchema("AccountChangeEvent.json");
  auto m = MustMap(*s);
  std::mt19937_64 rng(7);
  const std::string alphabet = "0123456789abcdefABCDEFxX- \x00\xff";
  int ok = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string e;
    size_t len = rng() % 24;
    for (size_t k = 0; k < len; ++k) e.push_back(alphabet[rng() % alphabet.size()]);
    std::vector<std::string> out;
    if (m->DecodeNames({e}, &out).ok()) ++ok;
  }
  EXPECT_GT(ok, 0);
}

TEST(FieldBitmap, NonRecordSchemaIsRejected) {
  auto s = avro::ParseSchema(R"("string")");
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(FieldMap::Build(**s).ok());
}

TEST(FieldMapCache, BuildsOncePerSchemaId) {
  auto s = LoadSchema("ContactChangeEvent.json");
  FieldMapCache cache;
  auto a = cache.Get(avro::SchemaId(*s), *s);
  auto b = cache.Get(avro::SchemaId(*s), *s);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->get(), b->get());
  EXPECT_EQ(cache.size(), 1u);
}

// An event value of `schema`: the header as given, every other field null; round-tripped
// through the real encoder and decoder so unions look exactly as decoded payloads do.
avro::Value MakeEvent(const avro::Schema& schema, const std::string& change_type,
                      std::vector<std::string> changed, std::vector<std::string> nulled,
                      std::vector<std::string> diff, int64_t commit_number) {
  const avro::Schema* hs = schema.fields()[0].type;
  auto strings = [](const std::vector<std::string>& v) {
    std::vector<avro::Value> out;
    for (const auto& s : v) out.push_back(avro::Value::String(s));
    return avro::Value::Array(std::move(out));
  };
  std::vector<avro::Value> h;
  for (const avro::Field& f : hs->fields()) {
    if (f.name == "entityName") h.push_back(avro::Value::String("Account"));
    if (f.name == "recordIds") h.push_back(strings({"001AAAAAAAAAAAAAAA", "001BBBBBBBBBBBBBBB"}));
    if (f.name == "changeType") {
      auto idx = f.type->FindSymbol(change_type);
      EXPECT_TRUE(idx.has_value()) << change_type;
      h.push_back(avro::Value::Enum(idx.value_or(0)));
    }
    if (f.name == "changeOrigin")
      h.push_back(avro::Value::String("com/salesforce/api/soap/58.0;client=x"));
    if (f.name == "transactionKey") h.push_back(avro::Value::String("0004a1b2-c3d4"));
    if (f.name == "sequenceNumber") h.push_back(avro::Value::Int(3));
    if (f.name == "commitTimestamp") h.push_back(avro::Value::Long(1700000000123));
    if (f.name == "commitNumber") h.push_back(avro::Value::Long(commit_number));
    if (f.name == "commitUser") h.push_back(avro::Value::String("005AAAAAAAAAAAAAAA"));
    if (f.name == "nulledFields") h.push_back(strings(nulled));
    if (f.name == "diffFields") h.push_back(strings(diff));
    if (f.name == "changedFields") h.push_back(strings(changed));
  }
  EXPECT_EQ(h.size(), hs->fields().size());
  std::vector<avro::Value> fields;
  fields.push_back(avro::Value::Record(std::move(h)));
  for (size_t i = 1; i < schema.fields().size(); ++i) fields.push_back(avro::Value::Null());
  avro::Value v = avro::Value::Record(std::move(fields));
  std::string bytes;
  Status st = avro::Encode(schema, v, &bytes);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return v;
}

avro::Value RoundTrip(std::shared_ptr<const avro::Schema> schema, const avro::Value& v) {
  std::string bytes;
  EXPECT_TRUE(avro::Encode(*schema, v, &bytes).ok());
  auto d = avro::Decoder::Create(schema);
  EXPECT_TRUE(d.ok());
  auto out = (*d)->Decode(bytes);
  EXPECT_TRUE(out.ok()) << out.status().ToString();
  return out.ok() ? *out : avro::Value();
}

TEST(ChangeEvent, DecodesHeaderBitmapsAndRecordRefs) {
  auto s = LoadSchema("AccountChangeEvent.json");
  const int64_t kBig = 9007199254740993;  // 2^53 + 1: not representable as a double
  avro::Value v =
      RoundTrip(s, MakeEvent(*s, "UPDATE", {"0x800000", "5-0x2"}, {"0x4"}, {"0x8"}, kBig));
  auto e = DecodeChangeEvent(*s, v);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->header.entity_name, "Account");
  EXPECT_EQ(e->header.change_type, ChangeType::kUpdate);
  EXPECT_EQ(e->header.change_type_name, "UPDATE");
  EXPECT_EQ(e->header.change_origin, "com/salesforce/api/soap/58.0;client=x");
  EXPECT_EQ(e->header.transaction_key, "0004a1b2-c3d4");
  EXPECT_EQ(e->header.sequence_number, 3);
  EXPECT_EQ(e->header.commit_timestamp, 1700000000123);
  EXPECT_EQ(e->header.commit_number, kBig);
  EXPECT_EQ(e->header.commit_user, "005AAAAAAAAAAAAAAA");
  EXPECT_THAT(e->header.changed_fields, ElementsAre("0x800000", "5-0x2"));
  EXPECT_THAT(e->changed_fields, ElementsAre("BillingAddress.City", "LastModifiedDate"));
  EXPECT_THAT(e->nulled_fields, ElementsAre(s->fields()[2].name));
  EXPECT_THAT(e->diff_fields, ElementsAre(s->fields()[3].name));
  EXPECT_THAT(e->records, ElementsAre(ObjectRef{"Account", "001AAAAAAAAAAAAAAA"},
                                      ObjectRef{"Account", "001BBBBBBBBBBBBBBB"}));
  EXPECT_FALSE(e->is_gap);
  EXPECT_FALSE(e->is_overflow);
}

TEST(ChangeEvent, GapOverflowAndSnapshotAreSurfaced) {
  auto s = LoadSchema("AccountChangeEvent.json");
  struct Case {
    const char* symbol;
    ChangeType type;
    bool gap;
    bool overflow;
  };
  for (const Case& c : {Case{"CREATE", ChangeType::kCreate, false, false},
                        Case{"DELETE", ChangeType::kDelete, false, false},
                        Case{"UNDELETE", ChangeType::kUndelete, false, false},
                        Case{"GAP_CREATE", ChangeType::kGapCreate, true, false},
                        Case{"GAP_UPDATE", ChangeType::kGapUpdate, true, false},
                        Case{"GAP_DELETE", ChangeType::kGapDelete, true, false},
                        Case{"GAP_UNDELETE", ChangeType::kGapUndelete, true, false},
                        Case{"GAP_OVERFLOW", ChangeType::kGapOverflow, true, true},
                        Case{"SNAPSHOT", ChangeType::kSnapshot, false, false}}) {
    avro::Value v = RoundTrip(s, MakeEvent(*s, c.symbol, {}, {}, {}, 1));
    auto e = DecodeChangeEvent(*s, v);
    ASSERT_TRUE(e.ok()) << c.symbol << ": " << e.status().ToString();
    EXPECT_EQ(e->header.change_type, c.type) << c.symbol;
    EXPECT_EQ(e->header.change_type_name, c.symbol);
    EXPECT_EQ(ChangeTypeName(e->header.change_type), c.symbol);
    EXPECT_EQ(e->is_gap, c.gap) << c.symbol;
    EXPECT_EQ(e->is_overflow, c.overflow) << c.symbol;
  }
  // The 2023 schema has no SNAPSHOT symbol.
  auto old = LoadSchema("AccountChangeEvent.2023.json");
  EXPECT_FALSE(old->fields()[0].type->FindField("changeType")->type->FindSymbol("SNAPSHOT"));
}

TEST(ChangeEvent, WorksOnEveryCdcSchema) {
  for (const auto& file : kCdcSchemas) {
    auto s = LoadSchema(file);
    const size_t last = s->fields().size() - 1;
    avro::Value v = RoundTrip(s, MakeEvent(*s, "UPDATE", {Bitmap({1, last})}, {}, {}, 42));
    auto e = DecodeChangeEvent(*s, v);
    ASSERT_TRUE(e.ok()) << file << ": " << e.status().ToString();
    EXPECT_THAT(e->changed_fields, ElementsAre(s->fields()[1].name, s->fields()[last].name));
    EXPECT_EQ(e->header.commit_number, 42);
  }
}

TEST(ChangeEvent, BadBitmapNamesTheHeaderField) {
  auto s = LoadSchema("ContactChangeEvent.json");
  avro::Value v = RoundTrip(s, MakeEvent(*s, "UPDATE", {"0x1"}, {"0xNOPE"}, {}, 1));
  auto e = DecodeChangeEvent(*s, v);
  ASSERT_FALSE(e.ok());
  EXPECT_THAT(e.status().message(), HasSubstr("nulledFields"));
}

TEST(ChangeEvent, WrongShapesAreErrors) {
  auto s = LoadSchema("ContactChangeEvent.json");
  EXPECT_FALSE(DecodeChangeEvent(*s, avro::Value::String("x")).ok());
  EXPECT_FALSE(DecodeChangeEvent(*s, avro::Value::Record({})).ok());
  // A header field of the wrong type.
  avro::Value v = MakeEvent(*s, "UPDATE", {}, {}, {}, 1);
  auto fields = v.children();
  auto header = fields[0].children();
  header[0] = avro::Value::Long(5);  // entityName
  fields[0] = avro::Value::Record(header);
  auto e = ExtractHeader(*s, avro::Value::Record(fields));
  ASSERT_FALSE(e.ok());
  EXPECT_THAT(e.status().message(), HasSubstr("entityName"));
  // A platform event has no header.
  auto pe = LoadSchema("Order_Event__e.json");
  std::vector<avro::Value> pf(pe->fields().size());
  EXPECT_FALSE(ExtractHeader(*pe, avro::Value::Record(pf)).ok());
  // A map built for another schema is refused.
  auto other = LoadSchema("AccountChangeEvent.json");
  auto m = MustMap(*other);
  EXPECT_FALSE(DecodeChangeEvent(*m, *s, MakeEvent(*s, "UPDATE", {}, {}, {}, 1)).ok());
}

TEST(ChangeEvent, RealCapturedEventDecodesWithThe2023Schema) {
  // The captured FetchResponse: its ChangeEventHeader decodes with the 2023 schema's header
  // record (the body was written with another schema version), so decode the header
  // prefix alone and place it in an otherwise-null event of the 2023 schema.
  auto fetch = nlohmann::json::parse(forcepipe::testing::ReadTestData(
      "schemas/AccountChangeEvent.2023.sample-fetchresponse.json"));
  auto full = LoadSchema("AccountChangeEvent.2023.json");
  auto header_schema = avro::ParseSchema(avro::CanonicalForm(*full->fields()[0].type));
  ASSERT_TRUE(header_schema.ok());
  auto d = avro::Decoder::Create(*header_schema);
  ASSERT_TRUE(d.ok());
  int decoded = 0;
  for (const auto& ev : fetch["events"]) {
    const std::string raw = Base64Decode(ev["event"]["payload"].get<std::string>()).value();
    std::optional<avro::Value> header;
    std::string json;
    for (size_t n = 1; n <= raw.size() && !header; ++n) {
      auto h = (*d)->Decode(std::string_view(raw).substr(0, n));
      if (h.ok()) {
        header = *h;
        ASSERT_TRUE((*d)->DecodeToJson(std::string_view(raw).substr(0, n), &json).ok());
      }
    }
    ASSERT_TRUE(header.has_value());
    std::vector<avro::Value> fields(full->fields().size());
    fields[0] = *header;
    auto e = DecodeChangeEvent(*full, avro::Value::Record(fields));
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    auto hj = nlohmann::json::parse(json);
    EXPECT_EQ(e->header.entity_name, "Account");
    EXPECT_EQ(e->header.change_type, ChangeType::kUpdate);
    EXPECT_EQ(e->header.commit_number, hj["commitNumber"].get<int64_t>());
    EXPECT_EQ(e->header.commit_timestamp, hj["commitTimestamp"].get<int64_t>());
    EXPECT_EQ(e->records.size(), hj["recordIds"].size());
    EXPECT_EQ(e->records[0].type, "Account");
    EXPECT_EQ(e->header.changed_fields, hj["changedFields"].get<std::vector<std::string>>());
    if (e->header.changed_fields == std::vector<std::string>{"0x800000"}) {
      EXPECT_THAT(e->changed_fields, ElementsAre("LastModifiedDate"));
    }
    ++decoded;
  }
  EXPECT_GT(decoded, 0);
  // The first event is the documented one: 20 records, changedFields 0x800000.
  EXPECT_EQ(fetch["events"].size() > 0, true);
}

TEST(ChangeEvent, FirstCapturedEventChangedLastModifiedDate) {
  auto fetch = nlohmann::json::parse(forcepipe::testing::ReadTestData(
      "schemas/AccountChangeEvent.2023.sample-fetchresponse.json"));
  auto full = LoadSchema("AccountChangeEvent.2023.json");
  auto header_schema = avro::ParseSchema(avro::CanonicalForm(*full->fields()[0].type));
  ASSERT_TRUE(header_schema.ok());
  auto d = avro::Decoder::Create(*header_schema);
  ASSERT_TRUE(d.ok());
  const std::string raw =
      Base64Decode(fetch["events"][0]["event"]["payload"].get<std::string>()).value();
  std::optional<avro::Value> header;
  for (size_t n = 1; n <= raw.size() && !header; ++n) {
    auto h = (*d)->Decode(std::string_view(raw).substr(0, n));
    if (h.ok()) header = *h;
  }
  ASSERT_TRUE(header.has_value());
  std::vector<avro::Value> fields(full->fields().size());
  fields[0] = *header;
  auto e = DecodeChangeEvent(*full, avro::Value::Record(fields));
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->records.size(), 20u);
  EXPECT_THAT(e->header.changed_fields, ElementsAre("0x800000"));
  EXPECT_THAT(e->changed_fields, ElementsAre("LastModifiedDate"));
  EXPECT_FALSE(e->is_gap);
}

}  // namespace
}  // namespace forcepipe::salesforce::cdc
