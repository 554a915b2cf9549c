// Tests for schema loading (schema id algorithm on the shared schemas) and the event
// generator (CDC bitmaps, transactions, GAP events, determinism).

#include "emulator/generator.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "avro/decoder.h"
#include "emulator/schemas.h"
#include "emulator/util.h"
#include "testing/testdata.h"

namespace forcepipe::emulator {
namespace {

std::shared_ptr<const LoadedSchema> Load(const char* name) {
  const EmbeddedSchema* e = FindEmbeddedSchema(name);
  EXPECT_NE(e, nullptr) << name;
  if (!e) return nullptr;
  auto l = LoadSchema(e->json);
  EXPECT_TRUE(l.ok()) << l.status().ToString();
  return std::make_shared<LoadedSchema>(std::move(l).value());
}

TEST(Schemas, SchemaIdsMatchIdsCapturedFromRealOrgs) {
  EXPECT_EQ(Load("Low_Ink__e")->id, "5E5OtZj5_Gm6Vax9XMXH9A");
  EXPECT_EQ(Load("CM_Test_Event_Two__e")->id, "K98aAtiNFBjA-PJlcvaQ2g");
  EXPECT_EQ(Load("Test_Event__e")->id, "6L0yfG1TjHj3IeYaje5uZQ");
  EXPECT_EQ(Load("Order_Event__e")->id, "_CADE3qaegX3ECEW0rlbYA");
}

TEST(Schemas, EmbeddedCopiesAreByteIdenticalToTheRepositoryFiles) {
  int compared = 0;
  for (const auto& e : EmbeddedSchemas()) {
    EXPECT_EQ(forcepipe::testing::ReadTestData(std::string("schemas/") + e.file), e.json) << e.name;
    ++compared;
  }
  EXPECT_EQ(compared, 9);
}

TEST(Schemas, GetSchemaFormIsCompactWithoutUuidAndKeepsTheId) {
  auto cm = Load("CM_Test_Event_Two__e");  // the capture carries a "uuid"
  EXPECT_EQ(cm->compact_json.find("uuid"), std::string::npos);
  EXPECT_EQ(cm->compact_json.find('\n'), std::string::npos);
  EXPECT_EQ(cm->compact_json.rfind("{\"name\":\"CM_Test_Event_Two__e\"", 0), 0u);
  auto again = LoadSchema(cm->compact_json);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->id, cm->id);
  auto order = Load("Order_Event__e");
  std::string raw = FindEmbeddedSchema("Order_Event__e")->json;  // a logged GetSchema response
  while (!raw.empty() && raw.back() == '\n') raw.pop_back();
  EXPECT_EQ(order->compact_json, raw);
}

TEST(Schemas, AddingAFieldMakesANewSchemaVersion) {
  auto acc = Load("AccountChangeEvent");
  auto v2 = AddFieldToSchema(acc->compact_json, "Emulator_Field_1__c");
  ASSERT_TRUE(v2.ok());
  auto l2 = LoadSchema(*v2);
  ASSERT_TRUE(l2.ok());
  EXPECT_NE(l2->id, acc->id);
  EXPECT_EQ(l2->schema->fields().size(), acc->schema->fields().size() + 1);
}

TEST(Bitmaps, TopLevelBitmapIsBigEndianHexOfFieldPositions) {
  EXPECT_EQ(FieldBitmap({5, 6, 7, 10, 24, 26, 29, 30}), "0x650004E0");
  EXPECT_EQ(FieldBitmap({23}), "0x800000");
  EXPECT_EQ(FieldBitmap({0}), "0x01");
  EXPECT_EQ(FieldBitmap({}), "");
}

TEST(Ids, SalesforceIdsCarryTheCaseSafeSuffix) {
  EXPECT_EQ(SalesforceIdSuffix("001D000000IqhSL"), "IAZ");
  std::string id = SalesforceId("001", 12345);
  EXPECT_EQ(id.size(), 18u);
  EXPECT_EQ(id.substr(0, 3), "001");
  EXPECT_EQ(id.substr(15), SalesforceIdSuffix(id.substr(0, 15)));
}

// An independent decoder for the spec's bitmap format, producing field names.
std::set<std::string> DecodeBitmaps(const avro::Schema& s, const avro::Value& arr) {
  std::set<std::string> names;
  auto bits_of = [](const std::string& hex) {
    std::vector<size_t> bits;
    size_t pos = 0;
    for (size_t i = hex.size(); i-- > 0; pos += 4) {
      int v = std::stoi(std::string(1, hex[i]), nullptr, 16);
      for (int b = 0; b < 4; ++b)
        if (v & (1 << b)) bits.push_back(pos + b);
    }
    return bits;
  };
  for (const auto& item : arr.children()) {
    const std::string& e = item.str();
    if (e.rfind("0x", 0) == 0) {
      for (size_t b : bits_of(e.substr(2))) names.insert(s.fields().at(b).name);
    } else {
      size_t dash = e.find("-0x");
      EXPECT_NE(dash, std::string::npos) << e;
      size_t p = std::stoul(e.substr(0, dash));
      const avro::Schema* t = s.fields().at(p).type;
      if (t->type() == avro::Type::kUnion) {
        for (const auto* b : t->branches())
          if (b->type() == avro::Type::kRecord) t = b;
      }
      for (size_t b : bits_of(e.substr(dash + 3))) {
        names.insert(s.fields()[p].name + "." + t->fields().at(b).name);
      }
    }
  }
  return names;
}

const avro::Value& HeaderField(const avro::Schema& s, const avro::Value& v, const char* name) {
  const avro::Schema& hs = *s.fields()[0].type;
  return v.field(0).unwrapped().field(hs.FindField(name)->index).unwrapped();
}

void CheckCdcTopic(const char* schema_name) {
  auto schema = Load(schema_name);
  const avro::Schema& s = *schema->schema;
  auto dec = avro::Decoder::Create(schema->schema);
  ASSERT_TRUE(dec.ok());
  ManualClock clock;
  EventFactory f(std::string("/data/") + schema_name, EventKind::kCdc, 42, &clock);
  std::map<std::string, int> ops;
  std::map<std::string, std::vector<std::pair<int, int64_t>>> tx;
  int multi = 0, nested = 0, nulled_seen = 0;
  for (int i = 0; i < 600; ++i) {
    auto ev = f.Next(*schema);
    ASSERT_TRUE(ev.ok()) << ev.status().ToString();
    EXPECT_EQ(ev->event.schema_id, schema->id);
    auto v = (*dec)->Decode(ev->event.payload);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    const std::string& op = ev->kind;
    ops[op]++;
    const avro::Value& ids = HeaderField(s, *v, "recordIds");
    ASSERT_GE(ids.children().size(), 1u);
    multi += ids.children().size() > 1;
    tx[HeaderField(s, *v, "transactionKey").str()].emplace_back(
        HeaderField(s, *v, "sequenceNumber").as_int(),
        HeaderField(s, *v, "commitNumber").as_long());
    EXPECT_GT(HeaderField(s, *v, "commitNumber").as_long(), int64_t{1} << 53);
    auto changed = DecodeBitmaps(s, HeaderField(s, *v, "changedFields"));
    auto nulled = DecodeBitmaps(s, HeaderField(s, *v, "nulledFields"));
    auto diff = DecodeBitmaps(s, HeaderField(s, *v, "diffFields"));
    std::set<std::string> present;  // non-null fields, nested ones as Parent.Child
    for (size_t fi = 1; fi < s.fields().size(); ++fi) {
      const avro::Value& fv = v->field(fi).unwrapped();
      if (fv.is_null()) continue;
      if (fv.type() == avro::Type::kRecord && op == "UPDATE") {
        const avro::Schema* t = s.fields()[fi].type;
        for (const auto* b : t->branches())
          if (b->type() == avro::Type::kRecord) t = b;
        for (size_t j = 0; j < fv.children().size(); ++j) {
          if (!fv.field(j).unwrapped().is_null())
            present.insert(s.fields()[fi].name + "." + t->fields()[j].name);
        }
        ++nested;
      } else {
        present.insert(s.fields()[fi].name);
      }
    }
    if (op == "UPDATE") {
      std::set<std::string> expected = present;
      expected.insert(nulled.begin(), nulled.end());
      EXPECT_EQ(changed, expected) << "event " << i;
      for (const auto& n : nulled) {
        EXPECT_EQ(present.count(n), 0u) << n;  // nulled fields carry null
      }
      for (const auto& d : diff) EXPECT_EQ(changed.count(d), 1u) << d;
      EXPECT_EQ(changed.count("LastModifiedDate"), 1u);
      nulled_seen += !nulled.empty();
    } else {
      EXPECT_TRUE(changed.empty() && nulled.empty() && diff.empty()) << op;
      if (op == "DELETE") {
        EXPECT_TRUE(present.empty());
      }
      if (op == "CREATE") {
        EXPECT_EQ(present.count("CreatedDate"), s.FindField("CreatedDate") ? 1u : 0u);
      }
    }
  }
  for (const char* op : {"CREATE", "UPDATE", "DELETE", "UNDELETE"}) EXPECT_GT(ops[op], 0) << op;
  EXPECT_GT(multi, 0);
  EXPECT_GT(nested, 0);
  EXPECT_GT(nulled_seen, 0);
  int multi_tx = 0;
  for (const auto& [key, seqs] : tx) {
    for (size_t k = 0; k < seqs.size(); ++k) {
      EXPECT_EQ(seqs[k].first, static_cast<int>(k + 1)) << key;
      EXPECT_EQ(seqs[k].second, seqs[0].second) << key;
    }
    multi_tx += seqs.size() > 1;
  }
  EXPECT_GT(multi_tx, 0);
}

TEST(Generator, AccountChangeBitmapsNameExactlyTheChangedFields) {
  CheckCdcTopic("AccountChangeEvent");
}
TEST(Generator, ContactChangeBitmapsNameExactlyTheChangedFields) {
  CheckCdcTopic("ContactChangeEvent");
}
TEST(Generator, CustomObjectChangeEventsDecode) {
  CheckCdcTopic("Some_Custom_Object__ChangeEvent");
}

TEST(Generator, SameSeedSameClockGivesIdenticalEvents) {
  auto schema = Load("AccountChangeEvent");
  ManualClock c1, c2;
  EventFactory a("/data/AccountChangeEvent", EventKind::kCdc, 9, &c1);
  EventFactory b("/data/AccountChangeEvent", EventKind::kCdc, 9, &c2);
  EventFactory other("/data/AccountChangeEvent", EventKind::kCdc, 10, &c2);
  bool differs = false;
  for (int i = 0; i < 50; ++i) {
    auto x = a.Next(*schema), y = b.Next(*schema), z = other.Next(*schema);
    EXPECT_EQ(x->event.payload, y->event.payload);
    EXPECT_EQ(x->event.event_id, y->event.event_id);
    differs |= x->event.payload != z->event.payload;
  }
  EXPECT_TRUE(differs);
}

TEST(Generator, GapEventsCarryRecordIdsAndNoFieldValues) {
  auto schema = Load("AccountChangeEvent");
  const avro::Schema& s = *schema->schema;
  auto dec = avro::Decoder::Create(schema->schema);
  ManualClock clock;
  EventFactory f("/data/AccountChangeEvent", EventKind::kCdc, 1, &clock);
  for (std::string type :
       {"GAP_CREATE", "GAP_UPDATE", "GAP_DELETE", "GAP_UNDELETE", "GAP_OVERFLOW"}) {
    auto ev = f.Gap(*schema, type, 3);
    ASSERT_TRUE(ev.ok()) << ev.status().ToString();
    auto v = (*dec)->Decode(ev->event.payload);
    ASSERT_TRUE(v.ok());
    const avro::Schema& ct = *s.fields()[0].type->FindField("changeType")->type;
    EXPECT_EQ(ct.symbols()[HeaderField(s, *v, "changeType").enum_index()], type);
    const auto& ids = HeaderField(s, *v, "recordIds").children();
    if (type == "GAP_OVERFLOW") {
      ASSERT_EQ(ids.size(), 1u);
      EXPECT_EQ(ids[0].str(), "000000000000000AAA");
    } else {
      EXPECT_EQ(ids.size(), 3u);
    }
    for (size_t i = 1; i < s.fields().size(); ++i) EXPECT_TRUE(v->field(i).is_null());
  }
  EXPECT_FALSE(f.Gap(*schema, "UPDATE", 1).ok());
}

TEST(Generator, LoginAndPlatformEventsDecodeWithEnvelopeFields) {
  ManualClock clock;
  for (auto [name, kind] : {std::pair{"LoginEventStream", EventKind::kLogin},
                            std::pair{"Order_Event__e", EventKind::kPlatform}}) {
    auto schema = Load(name);
    auto dec = avro::Decoder::Create(schema->schema);
    EventFactory f(std::string("/event/") + name, kind, 3, &clock);
    auto ev = f.Next(*schema);
    ASSERT_TRUE(ev.ok()) << ev.status().ToString();
    std::string json;
    ASSERT_TRUE((*dec)->DecodeToJson(ev->event.payload, &json).ok());
    EXPECT_NE(json.find("\"CreatedDate\":" + std::to_string(NowMillis(clock))), std::string::npos)
        << json;
    EXPECT_NE(json.find("\"CreatedById\":\"005"), std::string::npos) << json;
  }
}

TEST(Generator, UndecodablePayloadIsRejectedByTheDecoder) {
  ManualClock clock;
  EventBus bus(&clock, std::chrono::hours(72), 1);
  SchemaRegistry reg(&bus);
  auto schema = reg.Register(FindEmbeddedSchema("AccountChangeEvent")->json);
  ASSERT_TRUE(schema.ok());
  ASSERT_TRUE(bus.AddTopic("/data/AccountChangeEvent", (*schema)->id, {}).ok());
  Generator gen(&bus, &reg, &clock, 1);
  ASSERT_TRUE(gen.AddTopic({"/data/AccountChangeEvent", EventKind::kCdc, 1}).ok());
  ASSERT_TRUE(gen.Emit("/data/AccountChangeEvent", 5).ok());
  ASSERT_TRUE(gen.EmitUndecodable("/data/AccountChangeEvent").ok());
  auto dec = avro::Decoder::Create((*schema)->schema);
  int good = 0, bad = 0;
  bus.Read("/data/AccountChangeEvent", 0, 100, 1 << 30,
           [&](const BusEvent& e) { ((*dec)->Decode(e.payload).ok() ? good : bad)++; });
  EXPECT_EQ(good, 5);
  EXPECT_EQ(bad, 1);
  auto ledger = bus.Ledger("/data/AccountChangeEvent");
  ASSERT_EQ(ledger.size(), 6u);
  EXPECT_EQ(ledger.back().origin, "undecodable");
}

TEST(Generator, BackgroundGenerationHonoursMaxEvents) {
  ManualClock clock;
  EventBus bus(&clock, std::chrono::hours(72), 1);
  SchemaRegistry reg(&bus);
  auto schema = reg.Register(FindEmbeddedSchema("Order_Event__e")->json);
  ASSERT_TRUE(bus.AddTopic("/event/Order_Event__e", (*schema)->id, {}).ok());
  Generator gen(&bus, &reg, &clock, 1);
  ASSERT_TRUE(gen.AddTopic({"/event/Order_Event__e", EventKind::kPlatform, 1}).ok());
  gen.Start(0, 250);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (gen.emitted() < 250 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::yield();
  gen.Stop();
  EXPECT_EQ(gen.emitted(), 250u);
  EXPECT_EQ(bus.Ledger("").size(), 250u);
}

}  // namespace
}  // namespace forcepipe::emulator
