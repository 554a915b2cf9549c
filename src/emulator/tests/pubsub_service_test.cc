// Conformance tests for the emulator's eventbus.v1.PubSub service, one per rule of
// /work/shared/docs/spec-pubsub.md. Real gRPC on loopback port 0; a ManualClock drives
// keepalive, idle close and retention.

#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <regex>
#include <thread>

#include "emulator/tests/pubsub_test_util.h"

namespace forcepipe::emulator {
namespace {

using namespace std::chrono_literals;
using testing::Fetch;
using testing::Harness;
using testing::Trailer;
namespace ev = ::eventbus::v1;

using Stream = grpc::ClientReaderWriter<ev::FetchRequest, ev::FetchResponse>;

// Reads responses until `n` events arrived (or the stream ends). Returns the responses.
std::vector<ev::FetchResponse> ReadEvents(Stream* s, size_t n) {
  std::vector<ev::FetchResponse> out;
  size_t got = 0;
  ev::FetchResponse r;
  while (got < n && s->Read(&r)) {
    got += r.events_size();
    out.push_back(r);
  }
  return out;
}

std::vector<uint64_t> Ids(const std::vector<ev::FetchResponse>& rs) {
  std::vector<uint64_t> ids;
  for (const auto& r : rs) {
    for (const auto& e : r.events()) ids.push_back(*DecodeReplayId(e.replay_id()));
  }
  return ids;
}

void ExpectRpcError(const grpc::Status& st, const grpc::ClientContext& ctx, grpc::StatusCode code,
                    const std::string& error_code, const std::string& text_prefix) {
  EXPECT_EQ(st.error_code(), code) << st.error_message();
  EXPECT_EQ(Trailer(ctx, "error-code"), error_code);
  std::string rpc_id = Trailer(ctx, "rpc-id");
  EXPECT_TRUE(std::regex_match(
      rpc_id, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")))
      << rpc_id;
  EXPECT_EQ(st.error_message(), text_prefix + " rpcId: " + rpc_id);
  EXPECT_FALSE(Trailer(ctx, "type").empty());
}

TEST(PubSubSubscribe, CreditsAreCappedAt100AndAdditive) {
  Harness h;
  auto ids = h.Append("/event/Test__e", 300);
  auto ctx = h.Ctx();
  auto s = h.stub->Subscribe(ctx.get());
  ASSERT_TRUE(s->Write(Fetch("/event/Test__e", 150, ev::EARLIEST)));
  auto first = ReadEvents(s.get(), 100);
  ASSERT_EQ(Ids(first).size(), 100u);
  EXPECT_EQ(first.back().pending_num_requested(), 0);
  // Had 150 been honoured, 50 more would be owed; the next 5 requested must be events 101..105.
  ASSERT_TRUE(s->Write(Fetch("", 3)));
  ASSERT_TRUE(s->Write(Fetch("", 2)));  // additive: 3 + 2
  auto second = ReadEvents(s.get(), 5);
  auto got = Ids(second);
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got, std::vector<uint64_t>(ids.begin() + 100, ids.begin() + 105));
  EXPECT_EQ(second.back().pending_num_requested(), 0);
  ctx->TryCancel();
}

TEST(PubSubSubscribe, PendingNumRequestedIsWhatTheServerStillOwes) {
  PubSubOptions o;
  o.max_events_per_response = 4;
  Harness h(o);
  h.Append("/event/Test__e", 10);
  auto ctx = h.Ctx();
  auto s = h.stub->Subscribe(ctx.get());
  ASSERT_TRUE(s->Write(Fetch("/event/Test__e", 20, ev::EARLIEST)));
  auto rs = ReadEvents(s.get(), 10);
  int owed = 20;
  for (const auto& r : rs) {
    owed -= r.events_size();
    EXPECT_EQ(r.pending_num_requested(), owed);
    EXPECT_FALSE(r.rpc_id().empty());
    EXPECT_LE(r.events_size(), 4);
  }
  EXPECT_EQ(owed, 10);
  EXPECT_EQ(rs.size(), 3u);  // 4 + 4 + 2: requests and responses are not one-to-one
  ctx->TryCancel();
}

TEST(PubSubSubscribe, EarliestStartsAtOldestRetainedEvent) {
  Harness h;
  auto ids = h.Append("/event/Test__e", 7);
  auto ctx = h.Ctx();
  auto s = h.stub->Subscribe(ctx.get());
  ASSERT_TRUE(s->Write(Fetch("/event/Test__e", 50, ev::EARLIEST)));
  EXPECT_EQ(Ids(ReadEvents(s.get(), 7)), ids);
  ctx->TryCancel();
}

TEST(PubSubSubscribe, LatestDeliversOnlyEventsAfterSubscribing) {
  Harness h;
  h.Append("/event/Test__e", 5);
  auto ctx = h.Ctx();
  auto s = h.stub->Subscribe(ctx.get());
  ASSERT_TRUE(s->Write(Fetch("/event/Test__e", 50)));  // LATEST is the default (0)
  ASSERT_TRUE(h.WaitStarted(1));
  h.clock.Advance(270s);
  ev::FetchResponse keepalive;
  ASSERT_TRUE(s->Read(&keepalive));
  EXPECT_EQ(keepalive.events_size(), 0);  // nothing from before the subscription
  auto fresh = h.Append("/event/Test__e", 2);
  EXPECT_EQ(Ids(ReadEvents(s.get(), 2)), fresh);
  ctx->TryCancel();
}

TEST(PubSubSubscribe, CustomStartsStrictlyAfterTheReplayId) {
  Harness h;
  auto ids = h.Append("/event/Test__e", 10);
  auto ctx = h.Ctx();
  auto s = h.stub->Subscribe(ctx.get());
  ASSERT_TRUE(s->Write(Fetch("/event/Test__e", 50, ev::CUSTOM, EncodeReplayId(ids[3]))));
  EXPECT_EQ(Ids(ReadEvents(s.get(), 6)), std::vector<uint64_t>(ids.begin() + 4, ids.end()));
  ctx->TryCancel();
}

TEST(PubSubSubscribe, ReplayIdsAreEightByteBigEndianIncreasingWithGaps) {
  Harness h;
  auto ids = h.Append("/event/Test__e", 200);
  bool gap = false;
  for (size_t i = 1; i < ids.size(); ++i) {
    ASSERT_GT(ids[i], ids[i - 1]);
    gap |= ids[i] > ids[i - 1] + 1;
  }
  EXPECT_TRUE(gap);
  EXPECT_EQ(EncodeReplayId(0x0102030405060708ULL),
            std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
}

TEST(PubSubSubscribe, KeepaliveCarriesLatestReplayIdWhileEventsAreOwed) {
  Harness h;
  auto ids = h.Append("/event/Test__e", 3);
  auto ctx = h.Ctx();
  auto s = h.stub->Subscribe(ctx.get());
  ASSERT_TRUE(s->Write(Fetch("/event/Test__e", 10, ev::EARLIEST)));
  ASSERT_EQ(Ids(ReadEvents(s.get(), 3)).size(), 3u);
  h.clock.Advance(269s);
  h.clock.Advance(1s);
  ev::FetchResponse r;
  ASSERT_TRUE(s->Read(&r));
  EXPECT_EQ(r.events_size(), 0);
  EXPECT_EQ(*DecodeReplayId(r.latest_replay_id()), ids.back());
  EXPECT_EQ(r.pending_num_requested(), 7);
  EXPECT_FALSE(r.rpc_id().empty());
  ctx->TryCancel();
}

TEST(PubSubSubscribe, IdleStreamWithNothingOwedIsClosedAfter60s) {
  Harness h;
  h.Append("/event/Test__e", 1);
  auto ctx = h.Ctx();
  auto s = h.stub->Subscribe(ctx.get());
  ASSERT_TRUE(s->Write(Fetch("/event/Test__e", 1, ev::EARLIEST)));
  ASSERT_EQ(Ids(ReadEvents(s.get(), 1)).size(), 1u);
  h.clock.Advance(61s);
  ev::FetchResponse r;
  EXPECT_FALSE(s->Read(&r));
  EXPECT_TRUE(s->Finish().ok());
}

TEST(PubSubSubscribe, RetentionDropsEventsOlderThan72Hours) {
  Harness h;
  auto old_ids = h.Append("/event/Test__e", 3);
  h.clock.Advance(73h);
  h.token =
      h.tokens->IssueAccessToken("user@example.com", "005000000000001AAA");  // old one expired
  auto new_ids = h.Append("/event/Test__e", 2);
  {
    auto ctx = h.Ctx();
    auto s = h.stub->Subscribe(ctx.get());
    ASSERT_TRUE(s->Write(Fetch("/event/Test__e", 10, ev::EARLIEST)));
    EXPECT_EQ(Ids(ReadEvents(s.get(), 2)), new_ids);
    ctx->TryCancel();
  }
  {
    auto ctx = h.Ctx();
    auto s = h.stub->Subscribe(ctx.get());
    ASSERT_TRUE(s->Write(Fetch("/event/Test__e", 10, ev::CUSTOM, EncodeReplayId(old_ids[0]))));
    ev::FetchResponse r;
    EXPECT_FALSE(s->Read(&r));
    ExpectRpcError(s->Finish(), *ctx, grpc::StatusCode::INVALID_ARGUMENT,
                   "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted",
                   RpcError::ReplayIdCorrupted().message);
  }
  {
    // The last pruned id is still a lossless resume point.
    auto ctx = h.Ctx();
    auto s = h.stub->Subscribe(ctx.get());
    ASSERT_TRUE(s->Write(Fetch("/event/Test__e", 10, ev::CUSTOM, EncodeReplayId(old_ids[2]))));
    EXPECT_EQ(Ids(ReadEvents(s.get(), 2)), new_ids);
    ctx->TryCancel();
  }
}

TEST(PubSubSubscribe, ConcurrentAppendsReachEverySubscriberInOrderWithoutLoss) {
  Harness h;
  constexpr int kStreams = 4, kEvents = 3000;
  std::vector<std::unique_ptr<grpc::ClientContext>> ctxs;
  std::vector<std::unique_ptr<Stream>> streams;
  for (int i = 0; i < kStreams; ++i) {
    ctxs.push_back(h.Ctx());
    streams.push_back(h.stub->Subscribe(ctxs.back().get()));
    ASSERT_TRUE(streams.back()->Write(Fetch("/event/Test__e", 100, ev::EARLIEST)));
  }
  std::vector<std::vector<uint64_t>> got(kStreams);
  std::vector<std::thread> readers;
  for (int i = 0; i < kStreams; ++i) {
    readers.emplace_back([&, i] {
      int outstanding = 100;
      ev::FetchResponse r;
      while (got[i].size() < static_cast<size_t>(kEvents) && streams[i]->Read(&r)) {
        for (const auto& e : r.events()) got[i].push_back(*DecodeReplayId(e.replay_id()));
        outstanding -= r.events_size();
        if (outstanding <= 50) {
          streams[i]->Write(Fetch("", 100 - outstanding));
          outstanding = 100;
        }
      }
    });
  }
  std::vector<uint64_t> appended;
  std::mutex mu;
  std::vector<std::thread> writers;
  for (int w = 0; w < 3; ++w) {
    writers.emplace_back([&] {
      for (int i = 0; i < kEvents / 3; ++i) {
        BusEvent e;
        e.schema_id = "schemaA";
        e.payload = "p";
        auto id = h.bus->Append("/event/Test__e", std::move(e), "test", "x");
        std::lock_guard g(mu);
        appended.push_back(*id);
      }
    });
  }
  for (auto& t : writers) t.join();
  for (auto& t : readers) t.join();
  std::sort(appended.begin(), appended.end());
  for (int i = 0; i < kStreams; ++i) EXPECT_EQ(got[i], appended) << "stream " << i;
  for (auto& c : ctxs) c->TryCancel();
}

TEST(PubSubErrors, BadTokenIsUnauthenticatedWithAuthErrorCode) {
  Harness h;
  auto ctx = h.Ctx("00D5e000000Test!AQbogus");
  auto s = h.stub->Subscribe(ctx.get());
  s->Write(Fetch("/event/Test__e", 1));
  ev::FetchResponse r;
  EXPECT_FALSE(s->Read(&r));
  ExpectRpcError(s->Finish(), *ctx, grpc::StatusCode::UNAUTHENTICATED,
                 "sfdc.platform.eventbus.grpc.service.auth.error",
                 "An authentication exception occurred. Provide valid authentication via "
                 "metadata headers.");
  EXPECT_EQ(Trailer(*ctx, "type"), "Subscribe");
}

TEST(PubSubErrors, ExpiredTokenIsUnauthenticatedOnUnaryCalls) {
  Harness h;
  h.tokens->ExpireAllAccessTokens();
  auto ctx = h.Ctx();
  ev::TopicRequest req;
  req.set_topic_name("/event/Test__e");
  ev::TopicInfo info;
  ExpectRpcError(h.stub->GetTopic(ctx.get(), req, &info), *ctx, grpc::StatusCode::UNAUTHENTICATED,
                 "sfdc.platform.eventbus.grpc.service.auth.error", RpcError::Auth().message);
  // A fresh token works again.
  auto ctx2 = h.Ctx(h.tokens->IssueAccessToken("u", "005"));
  EXPECT_TRUE(h.stub->GetTopic(ctx2.get(), req, &info).ok());
}

TEST(PubSubErrors, WrongTenantIsUnauthenticated) {
  Harness h;
  grpc::ClientContext ctx;
  ctx.AddMetadata("accesstoken", h.token);
  ctx.AddMetadata("tenantid", "00D000000000000XXX");
  ev::TopicRequest req;
  req.set_topic_name("/event/Test__e");
  ev::TopicInfo info;
  EXPECT_EQ(h.stub->GetTopic(&ctx, req, &info).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST(PubSubErrors, MalformedReplayIdFailsValidation) {
  Harness h;
  h.Append("/event/Test__e", 1);
  auto ctx = h.Ctx();
  auto s = h.stub->Subscribe(ctx.get());
  s->Write(Fetch("/event/Test__e", 1, ev::CUSTOM, "abc"));
  ev::FetchResponse r;
  EXPECT_FALSE(s->Read(&r));
  ExpectRpcError(s->Finish(), *ctx, grpc::StatusCode::INVALID_ARGUMENT,
                 "sfdc.platform.eventbus.grpc.fetch.replayid.validation.failed",
                 RpcError::ReplayIdMalformed().message);
}

TEST(PubSubErrors, ReplayIdBeyondTheTipIsCorrupted) {
  Harness h;
  auto ids = h.Append("/event/Test__e", 1);
  auto ctx = h.Ctx();
  auto s = h.stub->Subscribe(ctx.get());
  s->Write(Fetch("/event/Test__e", 1, ev::CUSTOM, EncodeReplayId(ids[0] + 1000)));
  ev::FetchResponse r;
  EXPECT_FALSE(s->Read(&r));
  ExpectRpcError(s->Finish(), *ctx, grpc::StatusCode::INVALID_ARGUMENT,
                 "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted",
                 RpcError::ReplayIdCorrupted().message);
}

TEST(PubSubErrors, UnknownTopicIsNotFound) {
  Harness h;
  auto ctx = h.Ctx();
  auto s = h.stub->Subscribe(ctx.get());
  s->Write(Fetch("/event/Nope__e", 1));
  ev::FetchResponse r;
  EXPECT_FALSE(s->Read(&r));
  ExpectRpcError(s->Finish(), *ctx, grpc::StatusCode::NOT_FOUND,
                 "sfdc.platform.eventbus.grpc.topic.notfound",
                 RpcError::TopicNotFound(testing::kOrg, "/event/Nope__e").message);
}

TEST(PubSubErrors, NonPositiveNumRequestedIsRejected) {
  Harness h;
  for (int n : {0, -5}) {
    auto ctx = h.Ctx();
    auto s = h.stub->Subscribe(ctx.get());
    s->Write(Fetch("/event/Test__e", n));
    ev::FetchResponse r;
    EXPECT_FALSE(s->Read(&r));
    ExpectRpcError(s->Finish(), *ctx, grpc::StatusCode::INVALID_ARGUMENT,
                   "sfdc.platform.eventbus.grpc.fetch.requested.events.invalid",
                   RpcError::BadNumRequested().message);
  }
  // Also on a later request.
  auto ctx = h.Ctx();
  auto s = h.stub->Subscribe(ctx.get());
  h.Append("/event/Test__e", 1);
  ASSERT_TRUE(s->Write(Fetch("/event/Test__e", 1, ev::EARLIEST)));
  ASSERT_EQ(Ids(ReadEvents(s.get(), 1)).size(), 1u);
  s->Write(Fetch("", 0));
  ev::FetchResponse r;
  EXPECT_FALSE(s->Read(&r));
  EXPECT_EQ(s->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST(PubSubErrors, DifferentTopicInLaterRequestIsInvalidArgument) {
  Harness h;
  h.Append("/event/Test__e", 1);
  auto ctx = h.Ctx();
  auto s = h.stub->Subscribe(ctx.get());
  ASSERT_TRUE(s->Write(Fetch("/event/Test__e", 1, ev::EARLIEST)));
  ASSERT_EQ(Ids(ReadEvents(s.get(), 1)).size(), 1u);
  ASSERT_TRUE(s->Write(Fetch("/event/Test__e", 1)));  // same topic again is fine
  s->Write(Fetch("/data/AccountChangeEvent", 1));
  ev::FetchResponse r;
  while (s->Read(&r)) {
  }
  auto st = s->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Trailer(*ctx, "error-code"),
            "sfdc.platform.eventbus.grpc.subscription.fetch.topic.mismatch");
}

TEST(PubSubErrors, InjectedServiceUnavailableFailsOnlyTheNextCall) {
  Harness h;
  h.svc->FailNext(Rpc::kGetSchema, RpcError::ServiceUnavailable());
  ev::SchemaRequest req;
  req.set_schema_id("schemaA");
  ev::SchemaInfo info;
  auto ctx = h.Ctx();
  ExpectRpcError(h.stub->GetSchema(ctx.get(), req, &info), *ctx, grpc::StatusCode::INTERNAL,
                 "sfdc.platform.eventbus.grpc.service.unavailable",
                 "The service is unavailable. Try again later.");
  auto ctx2 = h.Ctx();
  ASSERT_TRUE(h.stub->GetSchema(ctx2.get(), req, &info).ok());
  EXPECT_EQ(info.schema_id(), "schemaA");
  EXPECT_NE(info.schema_json().find("\"A\""), std::string::npos);
  EXPECT_FALSE(info.rpc_id().empty());
}

TEST(PubSubErrors, TooManyStreamsOnOneConnectionHitsClientLimit) {
  PubSubOptions o;
  o.max_streams_per_connection = 2;
  Harness h(o);
  h.Append("/event/Test__e", 1);
  std::vector<std::unique_ptr<grpc::ClientContext>> ctxs;
  std::vector<std::unique_ptr<Stream>> streams;
  for (int i = 0; i < 2; ++i) {
    ctxs.push_back(h.Ctx());
    streams.push_back(h.stub->Subscribe(ctxs.back().get()));
    ASSERT_TRUE(streams.back()->Write(Fetch("/event/Test__e", 1, ev::EARLIEST)));
    ASSERT_EQ(Ids(ReadEvents(streams.back().get(), 1)).size(), 1u);
  }
  auto ctx = h.Ctx();
  auto s = h.stub->Subscribe(ctx.get());
  s->Write(Fetch("/event/Test__e", 1, ev::EARLIEST));
  ev::FetchResponse r;
  EXPECT_FALSE(s->Read(&r));
  ExpectRpcError(s->Finish(), *ctx, grpc::StatusCode::RESOURCE_EXHAUSTED,
                 "sfdc.platform.eventbus.grpc.concurrent.client.limit.exceeded",
                 RpcError::ClientLimit().message);
  for (auto& c : ctxs) c->TryCancel();
}

TEST(PubSubHeaders, AuthHeadersMatchCaseInsensitively) {
  std::multimap<grpc::string_ref, grpc::string_ref> md;
  md.emplace("x-client-trace-id", "abc");
  md.emplace("AccessToken", "tok");
  md.emplace("TENANTID", "org");
  EXPECT_EQ(FindHeader(md, "accesstoken"), "tok");
  EXPECT_EQ(FindHeader(md, "tenantId"), "org");
  EXPECT_EQ(FindHeader(md, "instanceurl"), std::nullopt);
}

TEST(PubSubHeaders, UnknownHeadersAreIgnored) {
  Harness h;
  auto ctx = h.Ctx();
  ctx->AddMetadata("x-client-trace-id", "trace-1");
  ctx->AddMetadata("x-something-else", "v");
  ev::TopicRequest req;
  req.set_topic_name("/data/AccountChangeEvent");
  ev::TopicInfo info;
  ASSERT_TRUE(h.stub->GetTopic(ctx.get(), req, &info).ok());
  EXPECT_EQ(info.topic_name(), "/data/AccountChangeEvent");
  EXPECT_EQ(info.schema_id(), "schemaA");
  EXPECT_EQ(info.tenant_guid(), testing::kOrg);
  EXPECT_TRUE(info.can_subscribe());
  EXPECT_FALSE(info.rpc_id().empty());
}

TEST(PubSubPublish, ResultsInOrderWithPerEventSizeLimit) {
  Harness h;
  ev::PublishRequest req;
  req.set_topic_name("/event/Test__e");
  auto* a = req.add_events();
  a->set_id("id-a");
  a->set_schema_id("schemaA");
  a->set_payload("aaa");
  auto* big = req.add_events();
  big->set_id("id-big");
  big->set_schema_id("schemaA");
  big->set_payload(std::string(1024 * 1024 + 10, 'x'));
  auto* c = req.add_events();
  c->set_schema_id("schemaA");
  c->set_payload("ccc");
  auto* bad = req.add_events();
  bad->set_id("id-bad");
  bad->set_schema_id("unknown");
  ev::PublishResponse resp;
  auto ctx = h.Ctx();
  ASSERT_TRUE(h.stub->Publish(ctx.get(), req, &resp).ok());
  ASSERT_EQ(resp.results_size(), 4);
  EXPECT_EQ(resp.results(0).correlation_key(), "id-a");
  EXPECT_EQ(resp.results(0).replay_id().size(), 8u);
  EXPECT_FALSE(resp.results(0).has_error());
  EXPECT_EQ(resp.results(1).correlation_key(), "id-big");
  EXPECT_EQ(resp.results(1).error().code(), ev::PUBLISH);
  EXPECT_TRUE(resp.results(1).replay_id().empty());
  EXPECT_EQ(resp.results(2).correlation_key().size(), 36u);  // server UUID
  EXPECT_FALSE(resp.results(2).has_error());
  EXPECT_EQ(resp.results(3).error().code(), ev::PUBLISH);
  EXPECT_EQ(resp.schema_id(), "schemaA");
  EXPECT_FALSE(resp.rpc_id().empty());
  auto ledger = h.bus->Ledger("/event/Test__e");
  ASSERT_EQ(ledger.size(), 2u);
  EXPECT_EQ(ledger[0].event_id, "id-a");
  EXPECT_EQ(ledger[0].payload_sha256, Sha256Hex("aaa"));
}

TEST(PubSubPublish, RequestOver4MBFails) {
  Harness h;
  ev::PublishRequest req;
  req.set_topic_name("/event/Test__e");
  for (int i = 0; i < 5; ++i) {
    auto* e = req.add_events();
    e->set_schema_id("schemaA");
    e->set_payload(std::string(1000 * 1000, 'x'));
  }
  ev::PublishResponse resp;
  auto ctx = h.Ctx();
  EXPECT_EQ(h.stub->Publish(ctx.get(), req, &resp).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_TRUE(h.bus->Ledger("").empty());
}

TEST(PubSubPublish, PublishStreamAnswersEachRequestAndDeliversToSubscribers) {
  Harness h;
  auto sctx = h.Ctx();
  auto sub = h.stub->Subscribe(sctx.get());
  ASSERT_TRUE(sub->Write(Fetch("/event/Test__e", 10)));
  ASSERT_TRUE(h.WaitStarted(1));
  h.clock.Advance(270s);
  ev::FetchResponse ka;
  ASSERT_TRUE(sub->Read(&ka));  // subscription is live

  auto ctx = h.Ctx();
  auto ps = h.stub->PublishStream(ctx.get());
  for (int i = 0; i < 3; ++i) {
    ev::PublishRequest req;
    if (i == 0) req.set_topic_name("/event/Test__e");
    auto* e = req.add_events();
    e->set_id("p" + std::to_string(i));
    e->set_schema_id("schemaA");
    e->set_payload("x" + std::to_string(i));
    ASSERT_TRUE(ps->Write(req));
    ev::PublishResponse resp;
    ASSERT_TRUE(ps->Read(&resp));
    ASSERT_EQ(resp.results_size(), 1);
    EXPECT_EQ(resp.results(0).correlation_key(), "p" + std::to_string(i));
  }
  ps->WritesDone();
  ev::PublishResponse extra;
  EXPECT_FALSE(ps->Read(&extra));
  EXPECT_TRUE(ps->Finish().ok());
  auto got = ReadEvents(sub.get(), 3);
  std::vector<std::string> payloads;
  for (const auto& r : got)
    for (const auto& e : r.events()) payloads.push_back(e.event().payload());
  EXPECT_EQ(payloads, (std::vector<std::string>{"x0", "x1", "x2"}));
  sctx->TryCancel();
}

TEST(PubSubFaults, ResetEndsStreamWithUnavailableAndStallSilencesIt) {
  Harness h;
  h.Append("/event/Test__e", 1);
  auto ctx = h.Ctx();
  auto s = h.stub->Subscribe(ctx.get());
  ASSERT_TRUE(s->Write(Fetch("/event/Test__e", 10, ev::EARLIEST)));
  ASSERT_EQ(Ids(ReadEvents(s.get(), 1)).size(), 1u);
  EXPECT_EQ(h.svc->StallStreams("/event/Test__e", true), 1);
  h.Append("/event/Test__e", 1);
  h.clock.Advance(300s);  // neither the event nor a keepalive may come while stalled
  EXPECT_EQ(h.svc->StallStreams("", false), 1);
  ev::FetchResponse r;
  ASSERT_TRUE(s->Read(&r));
  EXPECT_EQ(r.events_size(), 1);  // the first thing after un-stalling is the held event
  EXPECT_EQ(h.svc->ResetStreams(""), 1);
  while (s->Read(&r)) {
  }
  auto st = s->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(st.error_message(), "RST_STREAM closed stream");
}

TEST(PubSubManaged, CommittedPositionSurvivesReconnect) {
  Harness h;
  ManagedSubscription m;
  m.developer_name = "Managed_Test";
  m.topic = "/event/Test__e";
  m.default_earliest = true;
  ASSERT_TRUE(h.svc->AddManagedSubscription(m).ok());
  auto ids = h.Append("/event/Test__e", 6);
  {
    auto ctx = h.Ctx();
    auto s = h.stub->ManagedSubscribe(ctx.get());
    ev::ManagedFetchRequest req;
    req.set_developer_name("Managed_Test");
    req.set_num_requested(3);
    ASSERT_TRUE(s->Write(req));
    std::vector<uint64_t> got;
    ev::ManagedFetchResponse r;
    while (got.size() < 3 && s->Read(&r)) {
      for (const auto& e : r.events()) got.push_back(*DecodeReplayId(e.replay_id()));
    }
    ASSERT_EQ(got, std::vector<uint64_t>(ids.begin(), ids.begin() + 3));
    ev::ManagedFetchRequest commit;
    commit.mutable_commit_replay_id_request()->set_commit_request_id("c1");
    commit.mutable_commit_replay_id_request()->set_replay_id(EncodeReplayId(ids[2]));
    ASSERT_TRUE(s->Write(commit));  // no credits needed for a commit
    ASSERT_TRUE(s->Read(&r));
    ASSERT_TRUE(r.has_commit_response());
    EXPECT_EQ(r.commit_response().commit_request_id(), "c1");
    EXPECT_FALSE(r.commit_response().has_error());
    ctx->TryCancel();
  }
  // Wait for the server to release the subscription (one client each).
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (h.svc->ManagedSubscriptions()[0].active && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  auto ctx = h.Ctx();
  auto s = h.stub->ManagedSubscribe(ctx.get());
  ev::ManagedFetchRequest req;
  req.set_subscription_id(h.svc->ManagedSubscriptions()[0].id);
  req.set_num_requested(10);
  ASSERT_TRUE(s->Write(req));
  std::vector<uint64_t> got;
  ev::ManagedFetchResponse r;
  while (got.size() < 3 && s->Read(&r)) {
    for (const auto& e : r.events()) got.push_back(*DecodeReplayId(e.replay_id()));
  }
  EXPECT_EQ(got, std::vector<uint64_t>(ids.begin() + 3, ids.end()));
  ctx->TryCancel();
}

}  // namespace
}  // namespace forcepipe::emulator
