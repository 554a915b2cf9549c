// The Pub/Sub source against the real emulator over real gRPC (loopback, port
// 0): every fault the emulator injects is recovered with no lost and no
// invented event, proven by comparing the emulator's ledger with what reached
// the sink, event by event.

#include "sources/pubsub/pubsub_source.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "checkpoint/memory_store.h"
#include "config/loader.h"
#include "config/node.h"
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

// The emulator's replay id bytes: the bus sequence number, 8 bytes big-endian.
std::string ReplayBytes(uint64_t id) {
  std::string b(8, '\0');
  for (int i = 0; i < 8; ++i) b[7 - i] = static_cast<char>((id >> (8 * i)) & 0xff);
  return b;
}

class PubSubSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    emulator::EmulatorOptions o;
    o.plaintext = true;
    o.generate = false;
    o.seed = 7;
    o.pubsub.keepalive_interval = std::chrono::milliseconds(200);
    o.topics = Topics();
    emu_ = std::make_unique<emulator::Emulator>(o);
    ASSERT_TRUE(emu_->Start().ok());
  }
  virtual std::vector<emulator::TopicConfig> Topics() { return emulator::DefaultTopics(); }
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

  void StartEngine(PubSubSourceOptions o, const Clock* clock = Clock::Real()) {
    auto tokens = Tokens();
    tokens_ = tokens.get();
    auto src = std::make_unique<PubSubSource>(std::move(o), std::move(tokens));
    source_ = src.get();
    std::vector<std::unique_ptr<Source>> sources;
    sources.push_back(std::move(src));
    EngineOptions eo;
    eo.streaming.batch_interval = std::chrono::milliseconds(10);
    eo.streaming.retry.initial = std::chrono::milliseconds(1);
    eo.shutdown_grace = std::chrono::seconds(10);
    engine_ =
        std::make_unique<Engine>(eo, std::move(sources), std::make_unique<testing::SinkRef>(&sink_),
                                 std::make_unique<testing::StoreRef>(&store_), clock);
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
  // For tests that run the engine on a ManualClock: it must outlive the engine, whose
  // waits use it until TearDown stops it.
  ManualClock manual_clock_;
  std::unique_ptr<Engine> engine_;
  PubSubSource* source_ = nullptr;
  salesforce::TokenProvider* tokens_ = nullptr;  // owned by source_
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
  EXPECT_TRUE(Base64Decode(store_.Snapshot().at(Key("/event/LoginEventStream"))).has_value());
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

TEST_F(PubSubSourceTest, RepeatedAuthFaultBacksOffTheTokenMints) {
  // Every Subscribe rejected as UNAUTHENTICATED, 300 times over.
  for (int i = 0; i < 300; ++i)
    emu_->pubsub().FailNext(emulator::Rpc::kSubscribe, emulator::RpcError::Auth());
  const auto start = std::chrono::steady_clock::now();
  StartEngine(SourceOptions({"/event/LoginEventStream"}));
  ASSERT_TRUE(WaitUntil([&] { return tokens_ && tokens_->mint_count() >= 4; }));
  const auto took = std::chrono::steady_clock::now() - start;
  // The first mint and one immediate re-mint, then waits of at least 0.5 s and
  // 1 s (half of the 1 s and 2 s backoff): four mints take >= 1.5 s, not the
  // ~1 ms per mint of an unthrottled loop.
  EXPECT_GE(took, std::chrono::milliseconds(1500))
      << tokens_->mint_count() << " mints in "
      << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << "ms";
  EXPECT_GE(source_->counters(0).auth_refreshes.load(), 2u);
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
  EXPECT_EQ(j["replay_id"], Base64Encode(ReplayBytes(*bad)));
  EXPECT_EQ(j["topic"], "/event/Order_Event__e");
  EXPECT_FALSE(j["payload_base64"].get<std::string>().empty());
  // The committed position moved past the poison event.
  const std::string tip = Base64Encode(ReplayBytes(emu_->bus().Tip("/event/Order_Event__e")));
  EXPECT_TRUE(WaitUntil([&] {
    auto v = store_.Snapshot();
    return v.count(Key("/event/Order_Event__e")) && v.at(Key("/event/Order_Event__e")) == tip;
  }));
}

TEST_F(PubSubSourceTest, UndecodableEventHoldsThePositionWhileItCannotBeDeadLettered) {
  // A regular file where the dead-letter directory should be: writes fail
  // (as on a read-only or full data_dir; tests run as root, so no chmod).
  const std::string blocked = dir_.File("blocked");
  testing::WriteFile(blocked, "not a directory");
  PubSubSourceOptions o = SourceOptions({"/event/Order_Event__e"});
  o.dead_letter_path = blocked + "/dead-letters.jsonl";
  StartEngine(o);
  const std::string key = Key("/event/Order_Event__e");
  Emit("/event/Order_Event__e", 5);
  ASSERT_TRUE(
      WaitUntil([&] { return sink_.delivered_count() == 5 && store_.Snapshot().count(key); }));
  const std::string before = store_.Snapshot().at(key);
  auto bad = emu_->generator().EmitUndecodable("/event/Order_Event__e");
  ASSERT_TRUE(bad.ok());
  Emit("/event/Order_Event__e", 5);
  const uint64_t reconnects = source_->counters(0).reconnects.load();
  ASSERT_TRUE(WaitUntil([&] {
    return source_->counters(0).reconnects.load() >= reconnects + 2 ||
           store_.Snapshot().at(key) != before;
  }));
  EXPECT_EQ(store_.Snapshot().at(key), before) << "committed past an event that is nowhere";
  EXPECT_EQ(sink_.delivered_count(), 5u) << "events after the undecodable one went through";
  EXPECT_EQ(source_->counters(0).dead_letters.load(), 0u);

  std::filesystem::remove(blocked);  // writable again
  ASSERT_TRUE(WaitUntil([&] { return AllDelivered(); }));
  ASSERT_TRUE(WaitUntil([&] { return source_->counters(0).dead_letters.load() == 1; }));
  std::string dl = testing::ReadFile(o.dead_letter_path);
  auto j = nlohmann::json::parse(dl.substr(0, dl.find('\n')));
  EXPECT_EQ(j["replay_id"], Base64Encode(ReplayBytes(*bad)));
  const std::string tip = Base64Encode(ReplayBytes(emu_->bus().Tip("/event/Order_Event__e")));
  EXPECT_TRUE(WaitUntil([&] { return store_.Snapshot().at(key) == tip; }));
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

// L1: after a rejected replay id the gap record must not commit a position
// that a restart reads as "no checkpoint" (replay_preset): everything
// published between the two runs must arrive.
TEST_F(PubSubSourceTest, GapRecordThenRestartLosesNothingPublishedBetweenRuns) {
  const std::string topic = "/event/LoginEventStream";
  emu_->pubsub().SetKeepaliveInterval(std::chrono::hours(1));  // no keepalive moves the position
  CommitRequest r;
  r.set[Key(topic)] = Base64Encode(std::string(8, '\x7f'));  // past the tip: rejected
  ASSERT_TRUE(store_.Commit(r).ok());
  auto opts = [&] {
    auto o = SourceOptions({topic});
    o.initial_preset = Preset::kLatest;
    return o;
  };
  StartEngine(opts());
  ASSERT_TRUE(WaitUntil([&] {
    for (const auto& e : sink_.delivered()) {
      if (e.LabelValue("event_type") == "forcepipe_gap") return true;
    }
    return false;
  }));
  StopEngine();
  ASSERT_TRUE(run_status_.ok()) << run_status_.ToString();
  auto after_gap = store_.Snapshot();
  if (after_gap.count(Key(topic))) {
    EXPECT_NE(after_gap.at(Key(topic)), "") << "the gap record committed an empty position";
  }
  Emit(topic, 20);  // published while forcepipe is down
  StartEngine(opts());
  EXPECT_TRUE(WaitUntil([&] { return AllDelivered(); }, std::chrono::seconds(10)))
      << "delivered " << DeliveredIds().size() << " of " << LedgerIds().size()
      << " events published between the runs";
  StopEngine();
}

TEST_F(PubSubSourceTest, EmptyStoredPositionIsAnErrorNamingTheKeyNotAPresetRestart) {
  const std::string topic = "/data/AccountChangeEvent";
  CommitRequest r;
  r.set[Key(topic)] = "";
  ASSERT_TRUE(store_.Commit(r).ok());
  auto o = SourceOptions({topic});
  o.initial_preset = Preset::kLatest;
  StartEngine(std::move(o));
  ASSERT_TRUE(
      WaitUntil([&] { return !engine_->running() && run_status_.code() != StatusCode::kOk; },
                std::chrono::seconds(10)))
      << "an empty stored position was taken as \"no checkpoint\"";
  StopEngine();
  EXPECT_EQ(run_status_.code(), StatusCode::kCorruption) << run_status_.ToString();
  EXPECT_NE(run_status_.message().find(Key(topic)), std::string::npos) << run_status_.message();
  EXPECT_NE(run_status_.message().find("state delete"), std::string::npos) << run_status_.message();
  EXPECT_EQ(store_.Snapshot().at(Key(topic)), "") << "the stored position must be left alone";
}

TEST(PubSubPosition, CheckPositionValidatesKeyAndReplayIdShape) {
  PubSubSourceOptions o;
  o.name = "sf";
  o.topics = {"/data/AccountChangeEvent", "/event/*EventStream"};
  PubSubSource src(o, nullptr);
  const std::string id = Base64Encode(ReplayBytes(42));
  EXPECT_TRUE(src.CheckPosition("pubsub:00Dxx0000001gPL:/data/AccountChangeEvent", id).ok());
  EXPECT_TRUE(src.CheckPosition("pubsub:00Dxx0000001gPL:/event/LoginEventStream", id).ok());
  EXPECT_EQ(src.CheckPosition("pubsub:00Dxx0000001gPL:/data/ContactChangeEvent", id).code(),
            StatusCode::kNotFound);
  EXPECT_EQ(src.CheckPosition("synthetic:gen:k0", id).code(), StatusCode::kNotFound);
  for (const std::string bad : {std::string(""), std::string("not base64!"), std::string("QQ"),
                                std::string("===="), Base64Encode(std::string(300, 'x'))}) {
    Status s = src.CheckPosition("pubsub:00Dxx0000001gPL:/data/AccountChangeEvent", bad);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << "\"" << bad << "\"";
  }
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
  EXPECT_EQ(store_.Snapshot().at(Key(topic)), Base64Encode(ReplayBytes(emu_->bus().Tip(topic))));
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

// --- Topic discovery (describeGlobal) ----------------------------------------

TEST_F(PubSubSourceTest, NotFoundOnOneTopicStopsOnlyThatTopic) {
  const std::string good = "/data/AccountChangeEvent";
  const std::string bad = "/data/NoSuchChangeEvent";  // the emulator answers NOT_FOUND
  StartEngine(SourceOptions({good, bad}));
  auto health = [&] { return engine_->SourceProblems(0).second; };
  ASSERT_TRUE(WaitUntil([&] { return health().find(bad) != std::string::npos; }))
      << "the failed topic is not reported: \"" << health() << "\"";
  // The other topic keeps streaming: everything published after the failure
  // reaches the sink.
  Emit(good, 40);
  ASSERT_TRUE(
      WaitUntil([&] { return DeliveredIds() == LedgerIds(good); }, std::chrono::seconds(15)))
      << DeliveredIds().size() << " of " << LedgerIds(good).size()
      << " delivered after another topic's NOT_FOUND; source error: \""
      << engine_->SourceProblems(0).first << "\"";
  EXPECT_EQ(engine_->SourceProblems(0).first, "") << "the source itself has not failed";
  // The failure stays visible (/readyz, /status), naming the topic.
  EXPECT_NE(health().find("topic " + bad + " failed"), std::string::npos) << health();
  EXPECT_EQ(health().find(good), std::string::npos) << health();
}

TEST_F(PubSubSourceTest, NotFoundOnEveryTopicFailsTheSource) {
  StartEngine(SourceOptions({"/data/NoSuchChangeEvent", "/data/NoOtherChangeEvent"}));
  runner_.join();
  EXPECT_EQ(run_status_.code(), StatusCode::kNotFound) << run_status_.ToString();
  EXPECT_NE(engine_->SourceProblems(0).first.find("ChangeEvent"), std::string::npos)
      << engine_->SourceProblems(0).first;
  engine_.reset();
}

TEST_F(PubSubSourceTest, UnreachableEndpointMakesTheSourceUnhealthyAfterTheThreshold) {
  // A port nobody listens on.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  const int port = ntohs(a.sin_port);
  ::close(fd);
  auto o = SourceOptions({"/data/AccountChangeEvent"});
  o.client.endpoint = "127.0.0.1:" + std::to_string(port);
  o.unhealthy_after = std::chrono::seconds(60);
  ManualClock& clock = manual_clock_;
  StartEngine(std::move(o), &clock);
  auto health = [&] { return engine_->SourceProblems(0).second; };
  // The reconnect backoff (10..200 ms) waits on the engine's ManualClock: step it from one
  // backoff deadline to the next (well under a second of manual time in all).
  ASSERT_TRUE(WaitUntil([&] {
    clock.AdvanceToNextDeadline();
    return source_->counters(0).reconnects.load() >= 3;
  }));
  EXPECT_EQ(health(), "") << "a few failed connects within the threshold are not a problem yet";
  clock.Advance(std::chrono::seconds(61));
  ASSERT_TRUE(WaitUntil([&] { return !health().empty(); }))
      << "an endpoint unreachable past unhealthy_after must make the source unhealthy";
  EXPECT_NE(health().find("topic /data/AccountChangeEvent failing for"), std::string::npos)
      << health();
}

TEST(TopicPattern, MatchesOnlyEventTypesAsEventTopics) {
  const std::vector<std::string> names = {"Account",        "LoginEventStream", "ApiEventStream",
                                          "Order_Event__e", "LoginEvent",       "EventLogFile",
                                          "ApiEventStream"};
  EXPECT_EQ(MatchTopicPattern("/event/*EventStream", names),
            (std::vector<std::string>{"/event/ApiEventStream", "/event/LoginEventStream"}));
  EXPECT_EQ(MatchTopicPattern("/event/*__e", names),
            (std::vector<std::string>{"/event/Order_Event__e"}));
  EXPECT_EQ(MatchTopicPattern("/event/Login*", names),
            (std::vector<std::string>{"/event/LoginEventStream"}));
  EXPECT_TRUE(MatchTopicPattern("/event/*Account*", names).empty());
  EXPECT_TRUE(IsTopicPattern("/event/*EventStream"));
  EXPECT_FALSE(IsTopicPattern("/event/LoginEventStream"));
}

class DiscoveryTest : public PubSubSourceTest {
 protected:
  std::vector<emulator::TopicConfig> Topics() override {
    auto topics = emulator::DefaultTopics();
    // A second monitoring stream, and a Threat Detection event without the
    // EventStream suffix (not matched by the pattern).
    topics.push_back({"/event/ApiEventStream", "LoginEventStream", "", emulator::EventKind::kLogin,
                      1, 0, false});
    topics.push_back({"/event/ApiAnomalyEvent", "LoginEventStream", "", emulator::EventKind::kLogin,
                      1, 0, false});
    return topics;
  }
};

TEST_F(DiscoveryTest, EventStreamPatternSubscribesToEveryDiscoveredStream) {
  std::vector<std::string> expected;
  for (const auto& t : emu_->bus().TopicNames()) {
    if (t.rfind("/event/", 0) == 0 && t.size() > 11 &&
        t.compare(t.size() - 11, 11, "EventStream") == 0)
      expected.push_back(t);
  }
  std::sort(expected.begin(), expected.end());
  ASSERT_EQ(expected,
            (std::vector<std::string>{"/event/ApiEventStream", "/event/LoginEventStream"}));
  for (const auto& t : expected) Emit(t, 7);
  Emit("/event/Order_Event__e", 5);  // not matched: must not be subscribed
  Emit("/event/ApiAnomalyEvent", 5);
  // An explicit topic that the pattern also matches is subscribed once.
  StartEngine(SourceOptions({"/event/LoginEventStream", "/event/*EventStream"}));
  std::set<std::string> want;
  for (const auto& t : expected) {
    auto ids = LedgerIds(t);
    want.insert(ids.begin(), ids.end());
  }
  ASSERT_TRUE(WaitUntil([&] { return DeliveredIds() == want; }))
      << DeliveredIds().size() << " of " << want.size();
  auto topics = source_->topics();
  std::sort(topics.begin(), topics.end());
  EXPECT_EQ(topics, expected);
}

TEST_F(DiscoveryTest, PatternMatchingNothingFailsWithItsName) {
  StartEngine(SourceOptions({"/event/*NoSuchThing"}));
  runner_.join();
  EXPECT_EQ(run_status_.code(), StatusCode::kNotFound) << run_status_.ToString();
  EXPECT_NE(run_status_.message().find("/event/*NoSuchThing"), std::string::npos)
      << run_status_.ToString();
  engine_.reset();
}

// --- Config ------------------------------------------------------------------

Result<PubSubSourceOptions> ParseOptions(const std::string& yaml) {
  SourceFactory f = PubSubSourceFactory();
  FP_ASSIGN_OR_RETURN(YAML::Node doc, config::ParseYaml(yaml, "test.yaml"));
  FP_ASSIGN_OR_RETURN(config::Node node, config::Validate(doc, *f.options, "sources.sf",
                                                          config::Environment::Process()));
  FactoryContext ctx;
  ctx.name = "sf";
  return OptionsFromNode(node, ctx);
}

TEST(PubSubOptions, ManagedSubscriptionsAndPatternsAreValidatedWithTheirPath) {
  auto ok = ParseOptions(
      "topics: [/event/*EventStream]\n"
      "managed_subscriptions: {/data/ContactChangeEvent: Managed_Contact}\n"
      "auth: {flow: static, access_token: t, instance_url: 'https://x', org_id: "
      "00D000000000000AAA, ca_file: /etc/ca.pem}\n");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->topics,
            (std::vector<std::string>{"/event/*EventStream", "/data/ContactChangeEvent"}));
  EXPECT_EQ(ok->managed.at("/data/ContactChangeEvent"), "Managed_Contact");
  EXPECT_EQ(ok->rest.ca_file, "/etc/ca.pem");
  EXPECT_EQ(ok->rest.api_version, "v62.0");

  struct Case {
    std::string yaml, needle;
  };
  const std::vector<Case> bad = {
      {"topics: [/data/*ChangeEvent]\n", "only /event/ topics can be discovered"},
      {"managed_subscriptions: {/event/*EventStream: X}\n", "not a pattern"},
      {"topics: [/data/A]\nmanaged_subscriptions: {/data/A: X}\n", "list it once"},
      {"managed_subscriptions: {Account: X}\n", "is not a topic"},
      {"org: acme\n", "at least one topic"},
  };
  for (const auto& c : bad) {
    auto r = ParseOptions(c.yaml);
    ASSERT_FALSE(r.ok()) << c.yaml;
    EXPECT_NE(r.status().message().find(c.needle), std::string::npos) << r.status().ToString();
    EXPECT_NE(r.status().message().find("sources.sf."), std::string::npos) << r.status().ToString();
  }
}

// --- ManagedSubscribe -------------------------------------------------------

class ManagedSubscribeTest : public PubSubSourceTest {
 protected:
  static constexpr const char* kTopic = "/data/AccountChangeEvent";
  static constexpr const char* kSub = "Forcepipe_Account_Early";

  void SetUp() override {
    PubSubSourceTest::SetUp();
    emulator::ManagedSubscription m;
    m.developer_name = kSub;
    m.topic = kTopic;
    m.default_earliest = true;
    ASSERT_TRUE(emu_->pubsub().AddManagedSubscription(m).ok());
    sink_.SetHook([this](const Batch&) -> std::optional<PushOutcome> {
      if (sink_down_) return PushOutcome::Retryable("sink down (test)");
      return std::nullopt;
    });
  }
  PubSubSourceOptions ManagedOptions(std::string sub = kSub) {
    auto o = SourceOptions({});
    o.topics = {kTopic};
    o.managed[kTopic] = std::move(sub);
    return o;
  }
  // The position Salesforce holds for the subscription, or 0.
  uint64_t ServerCommitted(const std::string& name = kSub) {
    for (const auto& m : emu_->pubsub().ManagedSubscriptions()) {
      if (m.developer_name == name) return m.committed.value_or(0);
    }
    return 0;
  }
  uint64_t NthReplayId(size_t n) {  // 1-based, in the ledger's order
    auto ledger = emu_->bus().Ledger(kTopic);
    return ledger.at(n - 1).replay_id;
  }

  std::atomic<bool> sink_down_{false};
};

TEST_F(ManagedSubscribeTest, CommitsToSalesforceOnlyWhatTheSinkHas) {
  StartEngine(ManagedOptions());
  Emit(kTopic, 50);
  ASSERT_TRUE(WaitUntil([&] { return AllDelivered(); }));
  const uint64_t first_tip = emu_->bus().Tip(kTopic);
  ASSERT_TRUE(WaitUntil([&] { return ServerCommitted() == first_tip; }));

  sink_down_ = true;
  const size_t pushes_before = sink_.pushes();
  Emit(kTopic, 20);
  // The source has read all 20 and the sink has refused them at least twice.
  ASSERT_TRUE(WaitUntil([&] {
    return source_->counters(0).events.load() == 70 && sink_.pushes() >= pushes_before + 2;
  }));
  EXPECT_EQ(ServerCommitted(), first_tip) << "committed upstream before the sink had the events";
  EXPECT_EQ(store_.Snapshot().at(Key(kTopic)), Base64Encode(ReplayBytes(first_tip)));

  sink_down_ = false;
  ASSERT_TRUE(WaitUntil([&] { return AllDelivered(); }));
  const uint64_t tip = emu_->bus().Tip(kTopic);
  EXPECT_TRUE(WaitUntil([&] { return ServerCommitted() == tip; }));
  EXPECT_EQ(sink_.delivered_count(), 70u);
  // Acknowledged by Salesforce at least for both positions (the answer to the
  // last commit may still be on its way when the server already holds it).
  EXPECT_TRUE(WaitUntil([&] { return source_->counters(0).managed_commits.load() >= 2; }));
}

TEST_F(ManagedSubscribeTest, ReconnectSkipsWhatIsAlreadyInTheLaneAndLosesNothing) {
  StartEngine(ManagedOptions());
  Emit(kTopic, 30);
  ASSERT_TRUE(WaitUntil([&] { return AllDelivered(); }));
  ASSERT_TRUE(WaitUntil([&] { return ServerCommitted() == emu_->bus().Tip(kTopic); }));

  sink_down_ = true;
  Emit(kTopic, 25);
  ASSERT_TRUE(WaitUntil([&] { return source_->counters(0).events.load() == 55; }));
  // The server resends the 25 it was never told were committed.
  ASSERT_TRUE(WaitUntil([&] { return emu_->pubsub().ResetStreams("") > 0; }));
  ASSERT_TRUE(WaitUntil([&] { return source_->counters(0).managed_duplicates_skipped == 25; }))
      << source_->counters(0).managed_duplicates_skipped;
  Emit(kTopic, 5);
  sink_down_ = false;
  ASSERT_TRUE(WaitUntil([&] { return AllDelivered(); }))
      << DeliveredIds().size() << " of " << LedgerIds().size();
  EXPECT_EQ(sink_.delivered_count(), 60u) << "an event reached the sink twice";
  EXPECT_GE(source_->counters(0).reconnects.load(), 1u);
  EXPECT_TRUE(WaitUntil([&] { return ServerCommitted() == emu_->bus().Tip(kTopic); }));
}

TEST_F(ManagedSubscribeTest, OurCheckpointIsTheSourceOfTruthAtStart) {
  Emit(kTopic, 40);
  StartEngine(ManagedOptions());
  ASSERT_TRUE(WaitUntil([&] { return AllDelivered(); }));
  ASSERT_TRUE(WaitUntil([&] { return ServerCommitted() == emu_->bus().Tip(kTopic); }));
  StopEngine();

  // Our store says only the first 20 are safe (e.g. restored from a backup);
  // Salesforce says 40. Ours wins: events 21..40 come again, then the new ones.
  CommitRequest r;
  r.set[Key(kTopic)] = Base64Encode(ReplayBytes(NthReplayId(20)));
  ASSERT_TRUE(store_.Commit(r).ok());
  Emit(kTopic, 10);
  const size_t first_run = sink_.delivered_count();
  StartEngine(ManagedOptions());
  auto ledger = emu_->bus().Ledger(kTopic);
  std::vector<std::string> expected;
  for (size_t i = 20; i < ledger.size(); ++i) expected.push_back(ledger[i].event_id);
  ASSERT_TRUE(WaitUntil([&] { return ServerCommitted() == emu_->bus().Tip(kTopic); }));
  auto delivered = sink_.delivered();
  std::vector<std::string> got;
  for (size_t i = first_run; i < delivered.size(); ++i)
    got.push_back(std::string(delivered[i].Metadata(meta::kEventId)));
  EXPECT_EQ(got, expected);
}

TEST_F(ManagedSubscribeTest, WithoutACheckpointTheSubscriptionsOwnPositionIsUsed) {
  Emit(kTopic, 15);
  StartEngine(ManagedOptions());
  ASSERT_TRUE(WaitUntil([&] { return AllDelivered(); }));
  StopEngine();
  // A second subscription on which Salesforce already holds position 10, and
  // nothing in our store: Salesforce's position is used.
  emulator::ManagedSubscription m;
  m.developer_name = "Forcepipe_Account_Second";
  m.topic = kTopic;
  m.default_earliest = true;
  m.committed = NthReplayId(10);
  ASSERT_TRUE(emu_->pubsub().AddManagedSubscription(m).ok());
  CommitRequest forget;
  forget.erase.push_back(Key(kTopic));
  ASSERT_TRUE(store_.Commit(forget).ok());
  const size_t first_run = sink_.delivered_count();
  StartEngine(ManagedOptions("Forcepipe_Account_Second"));
  auto ledger = emu_->bus().Ledger(kTopic);
  std::vector<std::string> expected, got;
  for (size_t i = 10; i < ledger.size(); ++i) expected.push_back(ledger[i].event_id);
  ASSERT_TRUE(WaitUntil(
      [&] { return ServerCommitted("Forcepipe_Account_Second") == emu_->bus().Tip(kTopic); }));
  auto delivered = sink_.delivered();
  for (size_t i = first_run; i < delivered.size(); ++i)
    got.push_back(std::string(delivered[i].Metadata(meta::kEventId)));
  EXPECT_EQ(got, expected);
}

TEST_F(ManagedSubscribeTest, UnknownSubscriptionFailsTheSourceWithItsName) {
  StartEngine(ManagedOptions("No_Such_Subscription"));
  runner_.join();
  EXPECT_EQ(run_status_.code(), StatusCode::kNotFound) << run_status_.ToString();
  EXPECT_NE(run_status_.message().find("No_Such_Subscription"), std::string::npos)
      << run_status_.ToString();
  engine_.reset();
}

}  // namespace
}  // namespace forcepipe::pubsub
