// REST helpers against a real cpp-httplib server on loopback port 0 that answers like
// Salesforce (describeGlobal bodies, [{"message","errorCode"}] errors) and records requests.

#include "salesforce/rest/rest_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "testing/process.h"

namespace forcepipe::salesforce {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Hands out "<prefix>1", "<prefix>2", ...: Refresh(rejected) moves to the next one. Does NOT
// register its tokens with log::RegisterSecret, so scrubbing is the REST helper's own.
class CountingTokenProvider final : public TokenProvider {
 public:
  CountingTokenProvider(std::string instance_url, std::string prefix, bool can_refresh = true)
      : instance_url_(std::move(instance_url)),
        prefix_(std::move(prefix)),
        can_refresh_(can_refresh) {}
  Result<AccessToken> Get() override {
    std::lock_guard l(mu_);
    ++gets;
    return Current();
  }
  Result<AccessToken> Refresh(const std::string& rejected) override {
    std::lock_guard l(mu_);
    refreshed.push_back(rejected);
    if (!can_refresh_) return Status::Unauthenticated("static token cannot be re-minted");
    ++n_;
    return Current();
  }
  Result<UserInfo> FetchUserInfo() override { return Status::Unimplemented("not used"); }
  std::string_view flow() const override { return "test"; }
  uint64_t mint_count() const override { return n_; }

  int gets = 0;
  std::vector<std::string> refreshed;

 private:
  AccessToken Current() const {
    AccessToken t;
    t.token = prefix_ + std::to_string(n_);
    t.instance_url = instance_url_;
    t.org_id = "00D000000000001AAA";
    return t;
  }
  std::mutex mu_;
  std::string instance_url_;
  std::string prefix_;
  bool can_refresh_;
  int n_ = 1;
};

struct Seen {
  std::string path;
  std::string authorization;
};

// A loopback server; `handler` answers every GET under /services/data/.
class FakeSalesforce {
 public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;
  explicit FakeSalesforce(Handler handler) : handler_(std::move(handler)) {
    server_.Get(R"(/services/data/.*)",
                [this](const httplib::Request& req, httplib::Response& res) {
                  {
                    std::lock_guard l(mu_);
                    seen_.push_back({req.path, req.get_header_value("Authorization")});
                  }
                  handler_(req, res);
                });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
         !server_.is_running() && std::chrono::steady_clock::now() < until;) {
      std::this_thread::yield();
    }
  }
  ~FakeSalesforce() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<Seen> seen() {
    std::lock_guard l(mu_);
    return seen_;
  }

 private:
  Handler handler_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<Seen> seen_;
};

constexpr char kDescribe[] = R"({"encoding":"UTF-8","maxBatchSize":200,"sobjects":[
  {"name":"Account","label":"Account","keyPrefix":"001","custom":false,"queryable":true,
   "urls":{"sobject":"/services/data/v62.0/sobjects/Account"}},
  {"name":"LoginEventStream","label":"Login Event Stream","keyPrefix":null,"custom":false,
   "queryable":false},
  {"name":"LoginEvent","label":"Login Event","keyPrefix":null,"custom":false,"queryable":true},
  {"name":"ApiEventStream","label":"API Event Stream","keyPrefix":null,"custom":false,
   "queryable":false},
  {"name":"LightningUriEventStream","label":"Lightning URI Event Stream","custom":false},
  {"name":"EventStreamFoo","label":"Not a stream","custom":true},
  {"name":"loginEventstream","label":"wrong case","custom":true},
  {"name":"EventStream","label":"bare suffix"},
  {"name":"Order_Event__e","label":"Order Event","keyPrefix":"e00","custom":true,
   "queryable":false}]})";

void ReplyJson(httplib::Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_content(body, "application/json;charset=UTF-8");
}

const char kInvalidSession[] =
    R"([{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}])";

TEST(RestClient, DiscoversEventStreamTopicsSortedFromDescribeGlobal) {
  FakeSalesforce sf(
      [](const httplib::Request&, httplib::Response& res) { ReplyJson(res, 200, kDescribe); });
  CountingTokenProvider tokens(sf.url(), "tok-");
  RestTarget target;
  auto topics = DiscoverEventStreamTopics(target, tokens);
  ASSERT_TRUE(topics.ok()) << topics.status().ToString();
  EXPECT_EQ(*topics,
            (std::vector<std::string>{"/event/ApiEventStream", "/event/LightningUriEventStream",
                                      "/event/LoginEventStream"}));
  auto seen = sf.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].path, "/services/data/v62.0/sobjects/");
  EXPECT_EQ(seen[0].authorization, "Bearer tok-1");
  EXPECT_TRUE(tokens.refreshed.empty());
}

TEST(RestClient, DescribeGlobalParsesEntries) {
  FakeSalesforce sf(
      [](const httplib::Request&, httplib::Response& res) { ReplyJson(res, 200, kDescribe); });
  CountingTokenProvider tokens(sf.url(), "tok-");
  auto list = DescribeGlobal(RestTarget{}, tokens);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 9u);
  EXPECT_EQ((*list)[0].name, "Account");
  EXPECT_EQ((*list)[0].key_prefix, "001");
  EXPECT_TRUE((*list)[0].queryable);
  EXPECT_FALSE((*list)[0].custom);
  EXPECT_EQ((*list)[1].label, "Login Event Stream");
  EXPECT_EQ((*list)[1].key_prefix, "");
  EXPECT_TRUE((*list)[8].custom);
}

TEST(RestClient, VersionAndInstanceUrlOverride) {
  FakeSalesforce sf([](const httplib::Request&, httplib::Response& res) {
    ReplyJson(res, 200, R"({"sobjects":[]})");
  });
  // The token's instance URL is wrong; the target's (with a trailing slash) wins.
  CountingTokenProvider tokens("http://127.0.0.1:1", "tok-");
  RestTarget target;
  target.instance_url = sf.url() + "/";
  target.api_version = "60.0";
  auto topics = DiscoverEventStreamTopics(target, tokens);
  ASSERT_TRUE(topics.ok()) << topics.status().ToString();
  EXPECT_TRUE(topics->empty());
  ASSERT_EQ(sf.seen().size(), 1u);
  EXPECT_EQ(sf.seen()[0].path, "/services/data/v60.0/sobjects/");

  for (const char* bad : {"latest", "v62", "v6x.0", ""}) {
    target.api_version = bad;
    auto r = DiscoverEventStreamTopics(target, tokens);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(sf.seen().size(), 1u);  // nothing sent for a bad version
}

TEST(RestClient, RetriesOnceWithARefreshedTokenAfter401) {
  FakeSalesforce sf([](const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value("Authorization") == "Bearer tok-2") {
      ReplyJson(res, 200, kDescribe);
    } else {
      ReplyJson(res, 401, kInvalidSession);
    }
  });
  CountingTokenProvider tokens(sf.url(), "tok-");
  auto topics = DiscoverEventStreamTopics(RestTarget{}, tokens);
  ASSERT_TRUE(topics.ok()) << topics.status().ToString();
  EXPECT_EQ(topics->size(), 3u);
  EXPECT_EQ(tokens.refreshed, std::vector<std::string>{"tok-1"});
  auto seen = sf.seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].authorization, "Bearer tok-2");
}

TEST(RestClient, SecondConsecutive401IsUnauthenticatedAfterOneRetry) {
  FakeSalesforce sf([](const httplib::Request&, httplib::Response& res) {
    ReplyJson(res, 401, kInvalidSession);
  });
  CountingTokenProvider tokens(sf.url(), "tok-");
  auto topics = DiscoverEventStreamTopics(RestTarget{}, tokens);
  ASSERT_EQ(topics.status().code(), StatusCode::kUnauthenticated) << topics.status().ToString();
  EXPECT_THAT(topics.status().message(), HasSubstr("/services/data/v62.0/sobjects/"));
  EXPECT_THAT(topics.status().message(), HasSubstr("HTTP 401"));
  EXPECT_THAT(topics.status().message(), HasSubstr("INVALID_SESSION_ID"));
  EXPECT_EQ(tokens.refreshed.size(), 1u);
  EXPECT_EQ(sf.seen().size(), 2u);
}

TEST(RestClient, TokenThatCannotBeReMintedFailsWithBothReasons) {
  FakeSalesforce sf([](const httplib::Request&, httplib::Response& res) {
    ReplyJson(res, 401, kInvalidSession);
  });
  CountingTokenProvider tokens(sf.url(), "tok-", /*can_refresh=*/false);
  auto topics = DiscoverEventStreamTopics(RestTarget{}, tokens);
  ASSERT_EQ(topics.status().code(), StatusCode::kUnauthenticated);
  EXPECT_THAT(topics.status().message(), HasSubstr("INVALID_SESSION_ID"));
  EXPECT_THAT(topics.status().message(), HasSubstr("cannot be re-minted"));
  EXPECT_EQ(sf.seen().size(), 1u);
}

TEST(RestClient, HttpErrorsMapToStatusCodesNamingPathStatusAndErrorCode) {
  struct Case {
    int status;
    std::string body;
    StatusCode want;
    std::string want_text;
  };
  const std::vector<Case> cases = {
      {403, R"([{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}])",
       StatusCode::kResourceExhausted, "HTTP 403: REQUEST_LIMIT_EXCEEDED: TotalRequests Limit"},
      {403, R"([{"message":"no","errorCode":"INSUFFICIENT_ACCESS"}])",
       StatusCode::kPermissionDenied, "HTTP 403: INSUFFICIENT_ACCESS"},
      {404, R"([{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}])",
       StatusCode::kNotFound, "HTTP 404: NOT_FOUND"},
      {400, R"([{"message":"bad","errorCode":"INVALID_TYPE"}])", StatusCode::kInvalidArgument,
       "HTTP 400: INVALID_TYPE: bad"},
      {503, "<html>Service Unavailable</html>", StatusCode::kUnavailable,
       "HTTP 503: <html>Service Unavailable</html>"},
      {429, "", StatusCode::kUnavailable, "HTTP 429"},
  };
  for (const auto& c : cases) {
    FakeSalesforce sf([&c](const httplib::Request&, httplib::Response& res) {
      ReplyJson(res, c.status, c.body);
    });
    CountingTokenProvider tokens(sf.url(), "tok-");
    auto r = DiscoverEventStreamTopics(RestTarget{}, tokens);
    EXPECT_EQ(r.status().code(), c.want) << r.status().ToString();
    EXPECT_THAT(r.status().message(), HasSubstr("GET /services/data/v62.0/sobjects/"));
    EXPECT_THAT(r.status().message(), HasSubstr(c.want_text));
    EXPECT_TRUE(tokens.refreshed.empty());
  }
}

TEST(RestClient, MalformedDescribeGlobalBodiesAreClearErrors) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"this is not json", "not JSON: this is not json"},
      {"[]", "not a JSON object"},
      {R"({"encoding":"UTF-8"})", "no \"sobjects\" array"},
      {R"({"sobjects":{"name":"LoginEventStream"}})", "no \"sobjects\" array"},
      {R"({"sobjects":[{"name":"Account"},{"label":"x"}]})", "sobjects[1] has no string \"name\""},
      {R"({"sobjects":[{"name":42}]})", "sobjects[0] has no string \"name\""},
      {R"({"sobjects":["LoginEventStream"]})", "sobjects[0] has no string \"name\""},
  };
  for (const auto& [body, want] : cases) {
    FakeSalesforce sf(
        [&body](const httplib::Request&, httplib::Response& res) { ReplyJson(res, 200, body); });
    CountingTokenProvider tokens(sf.url(), "tok-");
    auto r = DiscoverEventStreamTopics(RestTarget{}, tokens);
    EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << body;
    EXPECT_THAT(r.status().message(), HasSubstr("malformed")) << body;
    EXPECT_THAT(r.status().message(), HasSubstr(want)) << r.status().ToString();
  }
}

TEST(RestClient, TokenNeverAppearsInErrorsEvenWhenTheServerEchoesIt) {
  const std::string canary = "00DCANARY!AQcanary-token-value-7f3a";
  for (int status : {400, 401, 500}) {
    FakeSalesforce sf([status](const httplib::Request& req, httplib::Response& res) {
      const std::string echoed = req.get_header_value("Authorization");
      if (status == 500) {
        res.status = 500;
        res.set_content("boom " + echoed, "text/plain");
      } else {
        ReplyJson(res, status,
                  nlohmann::json::array(
                      {{{"message", "bad token " + echoed}, {"errorCode", "INVALID_SESSION_ID"}}})
                      .dump());
      }
    });
    CountingTokenProvider tokens(sf.url(), canary);
    auto r = DiscoverEventStreamTopics(RestTarget{}, tokens);
    ASSERT_FALSE(r.ok());
    EXPECT_THAT(r.status().ToString(), HasSubstr("***")) << status;
    EXPECT_THAT(r.status().ToString(), Not(HasSubstr(canary))) << status;
    EXPECT_THAT(r.status().ToString(), Not(HasSubstr("canary-token"))) << status;
  }
}

TEST(RestClient, ConnectionRefusedIsUnavailableAndNamesThePath) {
  const int port = forcepipe::testing::ClosedLoopbackPort();  // connection refused there
  ASSERT_GT(port, 0);
  CountingTokenProvider tokens("http://127.0.0.1:" + std::to_string(port), "tok-");
  RestTarget target;
  target.timeout = std::chrono::seconds(5);
  const auto start = std::chrono::steady_clock::now();
  auto r = DiscoverEventStreamTopics(target, tokens);
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));  // no timeout
  EXPECT_THAT(r.status().message(), HasSubstr("/services/data/v62.0/sobjects/"));
  EXPECT_THAT(r.status().message(), Not(HasSubstr("tok-1")));
}

TEST(RestClient, EventStreamFilterIsCaseSensitiveSuffixAndDeduplicates) {
  std::vector<SObjectSummary> in = {{"ZEventStream"}, {"AEventStream"}, {"AEventStream"},
                                    {"EventStream"},  {"Foo"},          {"fooeventstream"}};
  EXPECT_EQ(EventStreamTopics(in),
            (std::vector<std::string>{"/event/AEventStream", "/event/ZEventStream"}));
}

}  // namespace
}  // namespace forcepipe::salesforce
