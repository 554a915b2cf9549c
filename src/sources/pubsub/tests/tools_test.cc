// tail / publish / schema against the real emulator over real gRPC.

#include "sources/pubsub/tools.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "emulator/emulator.h"
#include "testing/process.h"

namespace forcepipe::pubsub {
namespace {

class ToolsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    emulator::EmulatorOptions o;
    o.plaintext = true;
    o.generate = false;
    emu_ = std::make_unique<emulator::Emulator>(o);
    ASSERT_TRUE(emu_->Start().ok());
  }
  Connection Conn() {
    Connection c;
    c.client.endpoint = emu_->endpoints().grpc_endpoint;
    c.client.plaintext = true;
    salesforce::AuthConfig a;
    a.flow = salesforce::AuthFlow::kStatic;
    a.access_token = emu_->endpoints().access_token;
    a.instance_url = emu_->endpoints().instance_url;
    a.org_id = emu_->endpoints().tenant_id;
    auto t = salesforce::NewTokenProvider(a);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    c.tokens = std::move(t).value();
    return c;
  }
  std::unique_ptr<emulator::Emulator> emu_;
  testing::TempDir dir_;
};

TEST_F(ToolsTest, TailPrintsExactlyLimitDecodedEventsFromEarliest) {
  ASSERT_TRUE(emu_->generator().Emit("/data/AccountChangeEvent", 30).ok());
  TailOptions t;
  t.topic = "/data/AccountChangeEvent";
  t.from = "earliest";
  t.limit = 25;
  std::string path = dir_.File("tail.out");
  std::FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_TRUE(RunTail(Conn(), t, f, nullptr).ok());
  std::fclose(f);
  std::istringstream in(testing::ReadFile(path));
  std::string line;
  std::vector<nlohmann::json> events;
  while (std::getline(in, line)) events.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(events.size(), 25u);
  // The first 25 events of the ledger, in order (records in the header identify them).
  EXPECT_EQ(events[0]["ChangeEventHeader"]["entityName"], "Account");
  for (const auto& e : events) {
    for (const auto& f : e["ChangeEventHeader"]["changedFields"])
      EXPECT_NE(f.get<std::string>().rfind("0x", 0), 0u);
  }
}

TEST_F(ToolsTest, TailRejectsABadFromValue) {
  TailOptions t;
  t.topic = "/data/AccountChangeEvent";
  t.from = "yesterday!";
  Status s = RunTail(Conn(), t, stdout, nullptr);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("--from"), std::string::npos);
}

TEST_F(ToolsTest, PublishEncodesJsonLinesAndReportsEachResult) {
  std::istringstream in(
      "{\"CreatedDate\": 1700000000000, \"CreatedById\": \"005000000000001AAA\"}\n"
      "not json\n"
      "{\"CreatedDate\": 1700000000001, \"CreatedById\": \"005000000000001AAA\"}\n");
  std::ostringstream out;
  Status s = RunPublish(Conn(), "/event/Order_Event__e", in, out);
  EXPECT_FALSE(s.ok()) << "one line was bad";
  std::istringstream res(out.str());
  std::string line;
  int ok = 0, bad = 0;
  while (std::getline(res, line)) {
    auto j = nlohmann::json::parse(line);
    if (j.contains("replay_id")) ++ok;
    if (j.contains("error")) {
      ++bad;
      EXPECT_EQ(j["line"], 2);
    }
  }
  EXPECT_EQ(ok, 2);
  EXPECT_EQ(bad, 1);
  size_t published = 0;
  for (const auto& e : emu_->bus().Ledger("/event/Order_Event__e"))
    published += e.origin == "published";
  EXPECT_EQ(published, 2u);
}

TEST_F(ToolsTest, SchemaPrintsTheTopicsSchemaAndId) {
  std::ostringstream out;
  ASSERT_TRUE(RunSchema(Conn(), "/data/ContactChangeEvent", "", out).ok());
  auto j = nlohmann::json::parse(out.str());
  auto id = emu_->bus().TopicSchemaId("/data/ContactChangeEvent");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(j["schema_id"], *id);
  EXPECT_EQ(j["schema"]["name"], "ContactChangeEvent");
  std::ostringstream by_id;
  ASSERT_TRUE(RunSchema(Conn(), "", *id, by_id).ok());
  EXPECT_EQ(nlohmann::json::parse(by_id.str())["schema_id"], *id);
}

}  // namespace
}  // namespace forcepipe::pubsub
