// The Pub/Sub source against the real emulator over real gRPC (loopback, port
// 0): every fault the emulator injects is recovered with no lost and no
// invented event, proven by comparing the emulator's ledger with what reached
// the sink, event by event.

#include "sources/pubsub/pubsub_source.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "checkpoint/memory_store.h"
#include "emulator/emulator.h"
#include "pipeline/engine.h"
#include "sources/pubsub/event_mapper.h"
#include "testing/fakes.h"
#include "testing/process.h"

namespace forcepipe::pubsub {
namespace {

using testing::CollectingSink;
using testing::WaitUntil;

const std::vector<std::string> kTopics = {"/data/AccountChangeEvent", "/data/ContactChangeEvent",
                                          "/event/LoginEventStream", "/event/Order_Event__e"};

class PubSubSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    emulator::EmulatorOptions o;
    o.plaintext = true;
    o.generate = false;
    o.seed = 7;
    o.pubsub.keepalive_interval = std::chrono::milliseconds(200);
    emu_ = std::make_unique<emulator::Emulator>(o);
    ASSERT_TRUE(emu_->Start().ok());
  }
  void TearDown() override {
    StopEngine();
    emu_->Stop();
  }

  std::unique_ptr<salesforce::TokenProvider> Tokens() {
    salesforce::AuthConfig a;
    a.flow = salesforce::AuthFlow::kClientCredentials;
    a.login_url = emu_->endpoints().http_endpoint;
    a.client_id = emu_->options().oauth.client_id;
    a.client_secret = emu_->options().oauth.client_secret;
    auto p = salesforce::NewTokenProvider(a);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return std::move(p).value();
  }

  PubSubSourceOptions SourceOptions(std::vector<std::string> topics = kTopics) {
    PubSubSourceOptions o;
    o.name = "sf";
    o.topics = std::move(topics);
    o.client.endpoint = emu_->endpoints().grpc_endpoint;
    o.client.plaintext = true;
    o.reconnect.initial = std::chrono::milliseconds(10);
    o.reconnect.max = std::chrono::milliseconds(200);
    o.dead_letter_path = dir_.File("dead-letters.jsonl");
    return o;
  }

  void StartEngine(PubSubSourceOptions o) {
    auto src = std::make_unique<PubSubSource>(std::move(o), Tokens());
    source_ = src.get();
    std::vector<std::unique_ptr<Source>> sources;
    sources.push_back(std::move(src));
    EngineOptions eo;
    eo.streaming.batch_interval = std::chrono::milliseconds(10);
    eo.streaming.retry.initial = std::chrono::milliseconds(1);
    eo.shutdown_grace = std::chrono::seconds(10);
    engine_ =
        std::make_unique<Engine>(eo, std::move(sources), std::make_unique<testing::SinkRef>(&sink_),
                                 std::make_unique<testing::StoreRef>(&store_));
    runner_ = std::thread([this] { run_status_ = engine_->Run(); });
  }
  void StopEngine() {
    if (!engine_) return;
    engine_->RequestStop();
    runner_.join();
    engine_.reset();
    source_ = nullptr;
  }

  // Event ids in the ledger (decodable events only) vs event ids delivered.
  std::set<std::string> LedgerIds(const std::string& topic = "") {
    std::set<std::string> ids;
    for (const auto& e : emu_->bus().Ledger(topic)) {
      if (e.origin != "undecodable") ids.insert(e.event_id);
    }
    return ids;
  }
  std::set<std::string> DeliveredIds() {
    std::set<std::string> ids;
    for (const auto& e : sink_.delivered()) {
      if (e.LabelValue("event_type") != "forcepipe_gap")
        ids.insert(std::string(e.Metadata(meta::kEventId)));
    }
    return ids;
  }
  bool AllDelivered() { return DeliveredIds() == LedgerIds(); }
  void Emit(const std::string& topic, int n) { ASSERT_TRUE(emu_->generator().Emit(topic, n).ok()); }
  std::string Key(const std::string& topic) {
    return "pubsub:" + emu_->endpoints().tenant_id + ":" + topic;
  }

  testing::TempDir dir_;
  std::unique_ptr<emulator::Emulator> emu_;
  CollectingSink sink_;
  MemoryCheckpointStore store_;
  std::unique_ptr<Engine> engine_;
  PubSubSource* source_ = nullptr;
  std::thread runner_;
  Status run_status_;
};

TEST_F(PubSubSourceTest, DeliversEveryEventOfEveryTopicAsInTheLedger) {
  for (const auto& t : kTopics) Emit(t, 60);
  StartEngine(SourceOptions());
  ASSERT_TRUE(WaitUntil([&] { return AllDelivered(); }))
      << DeliveredIds().size() << " of " << LedgerIds().size();
  size_t cdc = 0;
  for (const auto& e : sink_.delivered()) {
    ASSERT_FALSE(e.line.empty());
    auto j = nlohmann::json::parse(e.line);
    if (e.LabelValue("event_type") == "AccountChangeEvent") {
      ++cdc;
      EXPECT_FALSE(e.Metadata(meta::kChangeType).empty());
      EXPECT_FALSE(e.objects.empty());
      for (const auto& f : j["ChangeEventHeader"]["changedFields"]) {
        EXPECT_NE(f.get<std::string>().rfind("0x", 0), 0u) << "bitmap not expanded: " << e.line;
      }
    }
    EXPECT_GT(e.timestamp_ns, 0);
  }
  EXPECT_EQ(cdc, 60u);
  // Each schema id was fetched once.
  EXPECT_TRUE(WaitUntil([&] { return store_.Snapshot().size() == kTopics.size(); }));
  auto b = Base64Decode(store_.Snapshot().at(Key("/event/LoginEventStream")));
  ASSERT_TRUE(b.ok());
}

TEST_F(PubSubSourceTest, RecoversFromResetAndServiceUnavailableWithoutLoss) {
  StartEngine(SourceOptions({"/data/AccountChangeEvent"}));
  Emit("/data/AccountChangeEvent", 50);
  ASSERT_TRUE(WaitUntil([&] { return AllDelivered(); }));
  emu_->pubsub().FailNext(emulator::Rpc::kSubscribe, emulator::RpcError::ServiceUnavailable());
  ASSERT_TRUE(WaitUntil([&] { return emu_->pubsub().ResetStreams("") > 0; }));
  Emit("/data/AccountChangeEvent", 50);
  ASSERT_TRUE(WaitUntil([&] { return AllDelivered(); }))
      << DeliveredIds().size() << " of " << LedgerIds().size();
  EXPECT_GE(source_->counters(0).reconnects.load(), 1u);
  EXPECT_EQ(sink_.delivered_count(), 100u)
      << "resuming after the last position must not repeat events";
}

TEST_F(PubSubSourceTest, TokenExpiryMidStreamReauthenticatesAndResumes) {
  StartEngine(SourceOptions({"/event/LoginEventStream"}));
  Emit("/event/LoginEventStream", 30);
  ASSERT_TRUE(WaitUntil([&] { return AllDelivered(); }));
  emu_->tokens().ExpireAllAccessTokens();
  ASSERT_TRUE(WaitUntil([&] { return emu_->pubsub().ResetStreams("") > 0; }));
  Emit("/event/LoginEventStream", 30);
  ASSERT_TRUE(WaitUntil([&] { return AllDelivered(); }))
      << DeliveredIds().size() << " of " << LedgerIds().size();
  EXPECT_GE(source_->counters(0).auth_refreshes.load(), 1u);
}

TEST_F(PubSubSourceTest, SchemaChangeMidStreamDecodesWithTheNewSchema) {
  StartEngine(SourceOptions({"/data/ContactChangeEvent"}));
  Emit("/data/ContactChangeEvent", 20);
  ASSERT_TRUE(WaitUntil([&] { return AllDelivered(); }));
  auto new_id = emu_->BumpSchema("/data/ContactChangeEvent");
  ASSERT_TRUE(new_id.ok());
  Emit("/data/ContactChangeEvent", 20);
  ASSERT_TRUE(WaitUntil([&] { return AllDelivered(); }));
  size_t with_new = 0;
  for (const auto& e : sink_.delivered()) with_new += e.Metadata(meta::kSchemaId) == *new_id;
  EXPECT_EQ(with_new, 20u);
}

TEST_F(PubSubSourceTest, UndecodablePayloadIsDeadLetteredAndTheStreamMovesOn) {
  StartEngine(SourceOptions({"/event/Order_Event__e"}));
  Emit("/event/Order_Event__e", 5);
  auto bad = emu_->generator().EmitUndecodable("/event/Order_Event__e");
  ASSERT_TRUE(bad.ok());
  Emit("/event/Order_Event__e", 5);
  ASSERT_TRUE(WaitUntil([&] { return AllDelivered(); }));
  ASSERT_TRUE(WaitUntil([&] { return source_->counters(0).dead_letters.load() == 1; }));
  std::string dl = testing::ReadFile(dir_.File("dead-letters.jsonl"));
  auto j = nlohmann::json::parse(dl.substr(0, dl.find('\n')));
  std::string replay(8, '\0');
  for (int i = 0; i < 8; ++i) replay[7 - i] = static_cast<char>((*bad >> (8 * i)) & 0xff);
  EXPECT_EQ(j["replay_id"], Base64Encode(replay));
  EXPECT_EQ(j["topic"], "/event/Order_Event__e");
  EXPECT_FALSE(j["payload_base64"].get<std::string>().empty());
  // The committed position moved past the poison event.
  auto tip = emu_->bus().Tip("/event/Order_Event__e");
  std::string tip_bytes(8, '\0');
  for (int i = 0; i < 8; ++i) tip_bytes[7 - i] = static_cast<char>((tip >> (8 * i)) & 0xff);
  EXPECT_TRUE(WaitUntil([&] {
    auto v = store_.Snapshot();
    return v.count(Key("/event/Order_Event__e")) &&
           v.at(Key("/event/Order_Event__e")) == Base64Encode(tip_bytes);
  }));
}

TEST_F(PubSubSourceTest, GapEventsKeepTheirChangeTypesAndRecordIds) {
  StartEngine(SourceOptions({"/data/AccountChangeEvent"}));
  ASSERT_TRUE(emu_->generator().EmitGap("/data/AccountChangeEvent", "GAP_UPDATE", 3).ok());
  ASSERT_TRUE(emu_->generator().EmitGap("/data/AccountChangeEvent", "GAP_OVERFLOW", 0).ok());
  ASSERT_TRUE(WaitUntil([&] { return AllDelivered(); }));
  auto d = sink_.delivered();
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].Metadata(meta::kChangeType), "GAP_UPDATE");
  EXPECT_EQ(d[0].objects.size(), 3u);
  EXPECT_EQ(d[1].Metadata(meta::kChangeType), "GAP_OVERFLOW");
  ASSERT_EQ(d[1].objects.size(), 1u);
  EXPECT_EQ(d[1].objects[0].id, "000000000000000AAA");
  EXPECT_EQ(source_->counters(0).gap_events.load(), 2u);
}

TEST_F(PubSubSourceTest, RestartResumesStrictlyAfterTheCommittedPosition) {
  const std::string topic = "/data/AccountChangeEvent";
  Emit(topic, 40);
  StartEngine(SourceOptions({topic}));
  ASSERT_TRUE(WaitUntil([&] { return AllDelivered(); }));
  ASSERT_TRUE(WaitUntil([&] { return store_.Snapshot().count(Key(topic)) == 1; }));
  StopEngine();
  size_t first_run = sink_.delivered_count();
  Emit(topic, 40);
  StartEngine(SourceOptions({topic}));
  ASSERT_TRUE(WaitUntil([&] { return AllDelivered(); }));
  EXPECT_EQ(first_run, 40u);
  EXPECT_EQ(sink_.delivered_count(), 80u) << "the second run re-sent committed events";
}

TEST_F(PubSubSourceTest, CorruptedReplayIdFallsBackToEarliestAndRecordsTheGap) {
  const std::string topic = "/event/LoginEventStream";
  Emit(topic, 25);
  // A position past the tip is not a valid resume point.
  std::string bogus(8, '\x7f');
  CommitRequest r;
  r.set[Key(topic)] = Base64Encode(bogus);
  ASSERT_TRUE(store_.Commit(r).ok());
  StartEngine(SourceOptions({topic}));
  ASSERT_TRUE(WaitUntil([&] { return AllDelivered(); })) << DeliveredIds().size();
  EXPECT_EQ(source_->counters(0).gaps.load(), 1u);
  bool gap_record = false;
  for (const auto& e : sink_.delivered()) {
    if (e.LabelValue("event_type") != "forcepipe_gap") continue;
    gap_record = true;
    auto j = nlohmann::json::parse(e.line);
    EXPECT_EQ(j["forcepipe_gap"]["last_replay_id"], Base64Encode(bogus));
    EXPECT_EQ(j["forcepipe_gap"]["resumed_from"], "EARLIEST");
  }
  EXPECT_TRUE(gap_record);
}

TEST_F(PubSubSourceTest, KeepaliveLatestReplayIdIsCommittedWithoutAnEntry) {
  const std::string topic = "/data/ContactChangeEvent";
  Emit(topic, 5);
  auto o = SourceOptions({topic});
  o.initial_preset = Preset::kLatest;
  StartEngine(std::move(o));
  ASSERT_TRUE(WaitUntil([&] { return store_.Snapshot().count(Key(topic)) == 1; }));
  EXPECT_EQ(sink_.delivered_count(), 0u);
  EXPECT_GE(source_->counters(0).keepalives.load(), 1u);
  auto tip = emu_->bus().Tip(topic);
  std::string tip_bytes(8, '\0');
  for (int i = 0; i < 8; ++i) tip_bytes[7 - i] = static_cast<char>((tip >> (8 * i)) & 0xff);
  EXPECT_EQ(store_.Snapshot().at(Key(topic)), Base64Encode(tip_bytes));
}

TEST_F(PubSubSourceTest, WatchdogReconnectsASilentStream) {
  const std::string topic = "/event/Order_Event__e";
  auto o = SourceOptions({topic});
  o.watchdog = std::chrono::milliseconds(700);
  StartEngine(std::move(o));
  ASSERT_TRUE(WaitUntil([&] { return emu_->pubsub().StallStreams(topic, true) > 0; }));
  Emit(topic, 10);
  ASSERT_TRUE(WaitUntil([&] { return source_->counters(0).watchdog_cancels.load() >= 1; }));
  emu_->pubsub().StallStreams(topic, false);
  ASSERT_TRUE(WaitUntil([&] { return AllDelivered(); }));
}

}  // namespace
}  // namespace forcepipe::pubsub
