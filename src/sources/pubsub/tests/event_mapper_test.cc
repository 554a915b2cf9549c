#include "sources/pubsub/event_mapper.h"

#include <gtest/gtest.h>

#include <limits>
#include <nlohmann/json.hpp>

#include "avro/encoder.h"
#include "avro/json_value.h"
#include "testing/process.h"
#include "testing/testdata.h"

namespace forcepipe::pubsub {
namespace {

std::string Shared(const std::string& name) {
  return forcepipe::testing::ReadTestData("schemas/" + name);
}

TEST(ReplaceJsonArray, ReplacesOnlyTheFirstKeyOccurrence) {
  std::string j = R"({"h":{"changedFields":["0x1","0x]2"],"x":1},"changedFields":["keep"]})";
  ASSERT_TRUE(ReplaceJsonArray(&j, "changedFields", {"Name", "Phone\"x"}));
  EXPECT_EQ(j, R"({"h":{"changedFields":["Name","Phone\"x"],"x":1},"changedFields":["keep"]})");
  EXPECT_FALSE(ReplaceJsonArray(&j, "nope", {}));
}

TEST(EventMapper, MapsAChangeEventWithNamedBitmapsAndRecordRefs) {
  std::string schema_json = Shared("AccountChangeEvent.json");
  auto compiled = CompileSchema("acct-schema-id", schema_json);
  ASSERT_TRUE(compiled.ok()) << compiled.status().ToString();
  const auto& cs = **compiled;
  ASSERT_TRUE(cs.cdc);
  // An UPDATE of Name (field 1) and Phone, written in the plain JSON form.
  const avro::Field* name = cs.schema->FindField("Name");
  const avro::Field* phone = cs.schema->FindField("Phone");
  ASSERT_TRUE(name && phone);
  uint64_t bits = (1ull << name->index) | (1ull << phone->index);
  char hex[32];
  std::snprintf(hex, sizeof(hex), "0x%llX", static_cast<unsigned long long>(bits));
  nlohmann::json ev;
  ev["ChangeEventHeader"] = {{"entityName", "Account"},
                             {"recordIds", {"001000000000001AAA", "001000000000002AAA"}},
                             {"changeType", "UPDATE"},
                             {"changeOrigin", "com/salesforce/api/soap/58.0"},
                             {"transactionKey", "tx-1"},
                             {"sequenceNumber", 1},
                             {"commitTimestamp", 1700000000123LL},
                             {"commitNumber", 9007199254740993LL},
                             {"commitUser", "005000000000001AAA"},
                             {"nulledFields", nlohmann::json::array()},
                             {"diffFields", nlohmann::json::array()},
                             {"changedFields", {hex}}};
  ev["Name"] = "Acme";
  ev["Phone"] = "555-0100";
  auto value = avro::ValueFromJson(*cs.schema, ev.dump());
  ASSERT_TRUE(value.ok()) << value.status().ToString();
  std::string payload;
  ASSERT_TRUE(avro::Encode(*cs.schema, *value, &payload).ok());

  eventbus::v1::ConsumerEvent ce;
  ce.mutable_event()->set_id("e-uuid-1");
  ce.mutable_event()->set_schema_id("acct-schema-id");
  ce.mutable_event()->set_payload(payload);
  ce.set_replay_id(std::string("\x00\x00\x00\x00\x00\x00\x00\x2a", 8));
  EventMapper mapper("00D000000000001AAA", "acme", "/data/AccountChangeEvent",
                     "pubsub:00D000000000001AAA:/data/AccountChangeEvent");
  Entry e;
  ASSERT_TRUE(mapper.Map(ce, cs, &e).ok());
  EXPECT_EQ(e.LabelValue("source"), "pubsub");
  EXPECT_EQ(e.LabelValue("event_type"), "AccountChangeEvent");
  EXPECT_EQ(e.LabelValue("sf_org_id"), "00D000000000001AAA");
  EXPECT_EQ(e.LabelValue("org"), "acme");
  EXPECT_EQ(e.Metadata(meta::kEventId), "e-uuid-1");
  EXPECT_EQ(e.Metadata(meta::kReplayId), "AAAAAAAAACo=");
  EXPECT_EQ(e.Metadata(meta::kChangeType), "UPDATE");
  EXPECT_EQ(e.Metadata(meta::kCommitUser), "005000000000001AAA");
  EXPECT_EQ(e.Metadata(meta::kUserId), "005000000000001AAA");
  EXPECT_EQ(e.timestamp_ns, 1700000000123LL * 1'000'000);
  EXPECT_EQ(e.checkpoint.value, "AAAAAAAAACo=");
  ASSERT_EQ(e.objects.size(), 2u);
  EXPECT_EQ(e.objects[0], (ObjectRef{"Account", "001000000000001AAA"}));
  auto changed = nlohmann::json::parse(std::string(e.Metadata(meta::kChangedFields)));
  EXPECT_EQ(changed, nlohmann::json({"Name", "Phone"}));
  auto line = nlohmann::json::parse(e.line);
  EXPECT_EQ(line["ChangeEventHeader"]["changedFields"], nlohmann::json({"Name", "Phone"}));
  EXPECT_EQ(line["ChangeEventHeader"]["commitNumber"].get<int64_t>(), 9007199254740993LL)
      << "longs must stay exact";
  EXPECT_EQ(line["Name"], "Acme");
}

// Found by fuzz/event_mapper_fuzz: an event time past what int64 nanoseconds hold
// overflowed (UB); it saturates.
TEST(EventMapper, EventTimeBeyondInt64NanosecondsSaturates) {
  auto compiled = CompileSchema("x", Shared("Order_Event__e.json"));
  ASSERT_TRUE(compiled.ok());
  const auto& cs = **compiled;
  auto value = avro::ValueFromJson(
      *cs.schema, R"({"CreatedDate": 36028797018963955, "CreatedById": "005000000000001AAA",
                     "Order_Number__c": null, "City__c": null, "Amount__c": null})");
  ASSERT_TRUE(value.ok()) << value.status().ToString();
  std::string payload;
  ASSERT_TRUE(avro::Encode(*cs.schema, *value, &payload).ok());
  eventbus::v1::ConsumerEvent ce;
  ce.mutable_event()->set_payload(payload);
  EventMapper mapper("org", "", "/event/Order_Event__e", "k");
  Entry e;
  ASSERT_TRUE(mapper.Map(ce, cs, &e).ok());
  EXPECT_EQ(e.timestamp_ns, std::numeric_limits<int64_t>::max());
}

TEST(EventMapper, UndecodablePayloadIsAnError) {
  auto compiled = CompileSchema("x", Shared("Order_Event__e.json"));
  ASSERT_TRUE(compiled.ok());
  eventbus::v1::ConsumerEvent ce;
  ce.mutable_event()->set_payload(std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 11));
  EventMapper mapper("org", "", "/event/Order_Event__e", "k");
  Entry e;
  EXPECT_FALSE(mapper.Map(ce, **compiled, &e).ok());
}

}  // namespace
}  // namespace forcepipe::pubsub
