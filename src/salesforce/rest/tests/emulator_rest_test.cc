// EventStream discovery against the real emulator (in-process, HTTPS on loopback port 0 with
// its generated CA), with real token providers from salesforce/auth.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "emulator/emulator.h"
#include "salesforce/rest/rest_client.h"
#include "testing/process.h"

namespace forcepipe::salesforce {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class EmulatorRest : public ::testing::Test {
 protected:
  void SetUp() override {
    emulator::EmulatorOptions o;
    o.generate = false;
    // The default topics plus a second monitoring stream and a Threat Detection event
    // (no Stream suffix) so discovery has something to pick and something to skip.
    o.topics = emulator::DefaultTopics();
    o.topics.push_back({"/event/ApiEventStream", "LoginEventStream", "",
                        emulator::EventKind::kLogin, 1, 0, false});
    o.topics.push_back({"/event/ApiAnomalyEvent", "LoginEventStream", "",
                        emulator::EventKind::kLogin, 1, 0, false});
    emu_ = std::make_unique<emulator::Emulator>(o);
    Status st = emu_->Start();
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  std::unique_ptr<TokenProvider> Provider() const {
    const auto& ep = emu_->endpoints();
    const auto& oo = emu_->oauth().options();
    AuthConfig c;
    c.flow = AuthFlow::kClientCredentials;
    c.login_url = ep.http_endpoint;
    c.ca_file = ep.ca_file;
    c.client_id = oo.client_id;
    c.client_secret = oo.client_secret;
    c.timeout = std::chrono::seconds(10);
    auto p = NewTokenProvider(c);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? std::move(*p) : nullptr;
  }

  RestTarget Target() const {
    RestTarget t;
    t.ca_file = emu_->endpoints().ca_file;
    t.timeout = std::chrono::seconds(10);
    return t;
  }

  // What discovery must return: the emulator's own /event/*EventStream topics.
  std::vector<std::string> BusEventStreams() const {
    std::vector<std::string> out;
    for (const auto& t : emu_->bus().TopicNames()) {
      const std::string suffix = "EventStream";
      if (t.rfind("/event/", 0) == 0 && t.size() > 7 + suffix.size() &&
          t.compare(t.size() - suffix.size(), suffix.size(), suffix) == 0) {
        out.push_back(t);
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::unique_ptr<emulator::Emulator> emu_;
};

TEST_F(EmulatorRest, DiscoveryReturnsExactlyTheEmulatorsEventStreamTopics) {
  auto tokens = Provider();
  ASSERT_TRUE(tokens);
  auto topics = DiscoverEventStreamTopics(Target(), *tokens);
  ASSERT_TRUE(topics.ok()) << topics.status().ToString();
  EXPECT_EQ(*topics, BusEventStreams());
  EXPECT_EQ(*topics,
            (std::vector<std::string>{"/event/ApiEventStream", "/event/LoginEventStream"}));

  // describeGlobal itself lists more than the streams (the filter has work to do).
  auto all = DescribeGlobal(Target(), *tokens);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  auto has = [&](const std::string& n) {
    return std::any_of(all->begin(), all->end(), [&](const auto& s) { return s.name == n; });
  };
  EXPECT_TRUE(has("Account"));
  EXPECT_TRUE(has("LoginEvent"));
  EXPECT_TRUE(has("ApiAnomalyEvent"));
  EXPECT_TRUE(has("Order_Event__e"));
  EXPECT_GT(all->size(), topics->size());
}

TEST_F(EmulatorRest, EveryServedApiVersionWorks) {
  auto tokens = Provider();
  ASSERT_TRUE(tokens);
  for (const char* v : {"v60.0", "61.0", "v62.0"}) {
    RestTarget t = Target();
    t.api_version = v;
    auto topics = DiscoverEventStreamTopics(t, *tokens);
    ASSERT_TRUE(topics.ok()) << v << ": " << topics.status().ToString();
    EXPECT_EQ(*topics, BusEventStreams()) << v;
  }
}

TEST_F(EmulatorRest, ExpiredTokenIsReMintedOnceAndDiscoverySucceeds) {
  auto tokens = Provider();
  ASSERT_TRUE(tokens);
  auto first = tokens->Get();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(tokens->mint_count(), 1u);
  emu_->tokens().ExpireAllAccessTokens();
  ASSERT_FALSE(emu_->tokens().CheckAccess(first->token).has_value());

  auto topics = DiscoverEventStreamTopics(Target(), *tokens);
  ASSERT_TRUE(topics.ok()) << topics.status().ToString();
  EXPECT_EQ(*topics, BusEventStreams());
  EXPECT_EQ(tokens->mint_count(), 2u);
  auto now = tokens->Get();
  ASSERT_TRUE(now.ok());
  EXPECT_NE(now->token, first->token);
  EXPECT_TRUE(emu_->tokens().CheckAccess(now->token).has_value());
}

TEST_F(EmulatorRest, WrongInstanceUrlIsUnavailable) {
  const int port = forcepipe::testing::ClosedLoopbackPort();  // connection refused there
  ASSERT_GT(port, 0);

  auto tokens = Provider();
  ASSERT_TRUE(tokens);
  RestTarget t = Target();
  t.instance_url = "https://127.0.0.1:" + std::to_string(port);
  auto topics = DiscoverEventStreamTopics(t, *tokens);
  ASSERT_EQ(topics.status().code(), StatusCode::kUnavailable) << topics.status().ToString();
  EXPECT_THAT(topics.status().message(), HasSubstr("/services/data/v62.0/sobjects/"));
  EXPECT_THAT(topics.status().message(), HasSubstr(std::to_string(port)));
}

TEST_F(EmulatorRest, TlsIsVerifiedAgainstTheGivenCa) {
  auto tokens = Provider();
  ASSERT_TRUE(tokens);
  RestTarget t = Target();
  t.ca_file.clear();  // system CAs do not know the emulator's self-signed certificate
  auto refused = DiscoverEventStreamTopics(t, *tokens);
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable) << refused.status().ToString();
  t.insecure_skip_verify = true;
  auto ok = DiscoverEventStreamTopics(t, *tokens);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(*ok, BusEventStreams());
}

TEST_F(EmulatorRest, CanaryTokenNeverAppearsInErrors) {
  const std::string canary = "00DCANARY000001!AQrestCanaryTokenValue9d2e";
  AuthConfig c;
  c.flow = AuthFlow::kStatic;
  c.access_token = canary;
  c.instance_url = emu_->endpoints().instance_url;
  c.org_id = emu_->endpoints().tenant_id;
  c.ca_file = emu_->endpoints().ca_file;
  auto tokens = NewTokenProvider(c);
  ASSERT_TRUE(tokens.ok()) << tokens.status().ToString();

  auto rejected = DiscoverEventStreamTopics(Target(), **tokens);
  ASSERT_EQ(rejected.status().code(), StatusCode::kUnauthenticated) << rejected.status().ToString();
  EXPECT_THAT(rejected.status().message(), HasSubstr("HTTP 401"));
  EXPECT_THAT(rejected.status().message(), HasSubstr("INVALID_SESSION_ID"));
  EXPECT_THAT(rejected.status().ToString(), Not(HasSubstr(canary)));
  EXPECT_THAT(rejected.status().ToString(), Not(HasSubstr("restCanary")));

  RestTarget t = Target();
  t.instance_url = "https://127.0.0.1:1";
  auto unreachable = DiscoverEventStreamTopics(t, **tokens);
  ASSERT_FALSE(unreachable.ok());
  EXPECT_THAT(unreachable.status().ToString(), Not(HasSubstr("restCanary")));

  t = Target();
  t.api_version = "v61";
  auto bad_version = DiscoverEventStreamTopics(t, **tokens);
  EXPECT_EQ(bad_version.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad_version.status().ToString(), Not(HasSubstr("restCanary")));
}

}  // namespace
}  // namespace forcepipe::salesforce
