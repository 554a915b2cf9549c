// Unit tests for the token providers against a real HTTP server (cpp-httplib on an
// ephemeral loopback port) that answers like Salesforce's token and userinfo endpoints.

#include "salesforce/auth/token_provider.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <spdlog/sinks/ostream_sink.h>
#include <yaml-cpp/yaml.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <latch>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "config/node.h"
#include "core/base64.h"
#include "core/log.h"
#include "salesforce/auth/auth_config.h"
#include "salesforce/auth/http_client.h"
#include "salesforce/auth/jwt.h"
#include "testing/process.h"

namespace forcepipe::salesforce {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kOrg[] = "00D5e000000abcdEAA";
constexpr char kUser[] = "0055e000001xyzwAAA";
constexpr char kSecret[] = "s3cr3t-client-secret-value";
constexpr char kPassword[] = "hunter2-password";
constexpr char kSecurityToken[] = "SECTOKEN123456";
constexpr char kRefresh[] = "5Aep861refresh-token-value";

// An RSA key pair generated per process.
struct KeyPair {
  std::string private_pem;
  std::string public_pem;
};
const KeyPair& TestKey() {
  static const KeyPair kKey = [] {
    KeyPair k;
    EVP_PKEY* key = EVP_RSA_gen(2048);
    BIO* b = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    long n = BIO_get_mem_data(b, &data);
    k.private_pem.assign(data, n);
    BIO_free(b);
    b = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(b, key);
    n = BIO_get_mem_data(b, &data);
    k.public_pem.assign(data, n);
    BIO_free(b);
    EVP_PKEY_free(key);
    return k;
  }();
  return kKey;
}

bool VerifyRs256(const std::string& jwt, const std::string& public_pem) {
  size_t d2 = jwt.rfind('.');
  if (d2 == std::string::npos) return false;
  std::string sig = Base64UrlDecode(jwt.substr(d2 + 1)).value_or("<invalid>");
  BIO* b = BIO_new_mem_buf(public_pem.data(), static_cast<int>(public_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PUBKEY(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char*>(jwt.data()), d2) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  return ok;
}

// A Salesforce-shaped OAuth server. Records every token request's form; answers with
// success JSON (fresh token each time) unless told to fail; can hold requests until
// released.
class FakeSalesforce {
 public:
  FakeSalesforce() {
    server_.Post(
        "/services/oauth2/token", [this](const httplib::Request& req, httplib::Response& res) {
          std::unique_lock l(mu_);
          forms_.push_back(req.params);
          ++requests_;
          cv_.notify_all();
          cv_.wait_for(l, std::chrono::seconds(30), [&] { return !hold_; });
          if (fail_status_ != 0) {
            res.status = fail_status_;
            // An endpoint that echoes the request form in its error text.
            res.set_content(echo_form_ ? fail_body_ + req.body : fail_body_, "application/json");
            return;
          }
          std::string token = "00D5e000000abcd!AQtoken-" + std::to_string(requests_);
          issued_.insert(token);
          nlohmann::json j = {
              {"access_token", token},  {"instance_url", url() + "/"},  {"id", id_url_},
              {"token_type", "Bearer"}, {"issued_at", "1700000000123"}, {"signature", "c2ln"}};
          res.set_content(j.dump(), "application/json");
        });
    server_.Get(
        "/services/oauth2/userinfo", [this](const httplib::Request& req, httplib::Response& res) {
          std::lock_guard l(mu_);
          ++userinfo_requests_;
          std::string auth = req.get_header_value("Authorization");
          std::string token = auth.rfind("Bearer ", 0) == 0 ? auth.substr(7) : "";
          if ((!issued_.count(token) && token != static_token_) || revoked_.count(token)) {
            res.status = 401;
            res.set_content(
                R"([{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}])",
                "application/json");
            return;
          }
          nlohmann::json j = {{"user_id", kUser},
                              {"organization_id", kOrg},
                              {"preferred_username", "integration@acme.example.com"},
                              {"email", "integration@acme.example.com"},
                              {"name", "Integration User"}};
          res.set_content(j.dump(), "application/json");
        });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // cpp-httplib ignores stop() until the listen loop runs: wait for it, so a
    // Stop() right after Start() cannot leave the loop running forever.
    for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
         !server_.is_running() && std::chrono::steady_clock::now() < until;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    // stop() is a no-op until the accept loop runs, so wait for it (bounded).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!server_.is_running() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
  }
  ~FakeSalesforce() {
    Release();
    server_.stop();
    thread_.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int requests() {
    std::lock_guard l(mu_);
    return requests_;
  }
  int userinfo_requests() {
    std::lock_guard l(mu_);
    return userinfo_requests_;
  }
  httplib::Params last_form() {
    std::lock_guard l(mu_);
    return forms_.empty() ? httplib::Params{} : forms_.back();
  }
  // Fails every token request with `status` and `prefix` followed by the
  // request's form body as sent (percent-encoded).
  void FailEchoingForm(int status, std::string prefix) {
    Fail(status, std::move(prefix));
    std::lock_guard l(mu_);
    echo_form_ = true;
  }
  void Fail(int status, std::string body) {
    std::lock_guard l(mu_);
    fail_status_ = status;
    fail_body_ = std::move(body);
  }
  void SetIdUrl(std::string id) {
    std::lock_guard l(mu_);
    id_url_ = std::move(id);
  }
  void Hold() {
    std::lock_guard l(mu_);
    hold_ = true;
  }
  void Release() {
    std::lock_guard l(mu_);
    hold_ = false;
    cv_.notify_all();
  }
  bool WaitForRequests(int n) {
    std::unique_lock l(mu_);
    return cv_.wait_for(l, std::chrono::seconds(10), [&] { return requests_ >= n; });
  }
  void Revoke(const std::string& token) {
    std::lock_guard l(mu_);
    revoked_.insert(token);
  }
  void SetStaticToken(std::string t) {
    std::lock_guard l(mu_);
    static_token_ = std::move(t);
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<httplib::Params> forms_;
  int requests_ = 0;
  int userinfo_requests_ = 0;
  int fail_status_ = 0;
  std::string fail_body_;
  bool echo_form_ = false;
  bool hold_ = false;
  std::string id_url_ = std::string("https://login.salesforce.com/id/") + kOrg + "/" + kUser;
  std::set<std::string> issued_;
  std::set<std::string> revoked_;
  std::string static_token_;
};

std::string FormValue(const httplib::Params& p, const std::string& key) {
  auto it = p.find(key);
  return it == p.end() ? "<absent>" : it->second;
}

AuthConfig BaseConfig(const FakeSalesforce& sf, AuthFlow flow, const Clock* clock) {
  AuthConfig c;
  c.flow = flow;
  c.login_url = sf.url();
  c.client_id = "3MVG9testClientId";
  c.client_secret = kSecret;
  c.username = "integration@acme.example.com";
  c.password = kPassword;
  c.security_token = kSecurityToken;
  c.private_key_pem = TestKey().private_pem;
  c.refresh_token = kRefresh;
  c.timeout = std::chrono::seconds(5);
  c.clock = clock;
  return c;
}

std::unique_ptr<TokenProvider> MustProvider(AuthConfig c) {
  auto p = NewTokenProvider(std::move(c));
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? std::move(p).value() : nullptr;
}

void ExpectNoSecrets(const std::string& text) {
  for (const std::string& s :
       {std::string(kSecret), std::string(kPassword), std::string(kSecurityToken),
        std::string(kRefresh), TestKey().private_pem.substr(40, 40), std::string("!AQtoken")}) {
    EXPECT_THAT(text, Not(HasSubstr(s)));
  }
}

TEST(TokenProvider, ClientCredentialsSendsFormAndParsesResponse) {
  FakeSalesforce sf;
  ManualClock clock;
  auto p = MustProvider(BaseConfig(sf, AuthFlow::kClientCredentials, &clock));
  auto t = p->Get();
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->token, "00D5e000000abcd!AQtoken-1");
  EXPECT_EQ(t->instance_url, sf.url());  // trailing slash trimmed
  EXPECT_EQ(t->org_id, kOrg);
  EXPECT_EQ(t->user_id, kUser);
  EXPECT_EQ(t->issued_at_ms, 1700000000123);
  auto form = sf.last_form();
  EXPECT_EQ(FormValue(form, "grant_type"), "client_credentials");
  EXPECT_EQ(FormValue(form, "client_id"), "3MVG9testClientId");
  EXPECT_EQ(FormValue(form, "client_secret"), kSecret);
  EXPECT_EQ(FormValue(form, "username"), "<absent>");
  EXPECT_EQ(p->flow(), "client_credentials");
}

TEST(TokenProvider, PasswordFlowAppendsSecurityToken) {
  FakeSalesforce sf;
  ManualClock clock;
  auto p = MustProvider(BaseConfig(sf, AuthFlow::kPassword, &clock));
  ASSERT_TRUE(p->Get().ok());
  auto form = sf.last_form();
  EXPECT_EQ(FormValue(form, "grant_type"), "password");
  EXPECT_EQ(FormValue(form, "client_id"), "3MVG9testClientId");
  EXPECT_EQ(FormValue(form, "client_secret"), kSecret);
  EXPECT_EQ(FormValue(form, "username"), "integration@acme.example.com");
  EXPECT_EQ(FormValue(form, "password"), std::string(kPassword) + kSecurityToken);
}

TEST(TokenProvider, RefreshTokenFlowSendsRefreshToken) {
  FakeSalesforce sf;
  ManualClock clock;
  AuthConfig c = BaseConfig(sf, AuthFlow::kRefreshToken, &clock);
  c.client_secret.clear();
  auto p = MustProvider(c);
  ASSERT_TRUE(p->Get().ok());
  auto form = sf.last_form();
  EXPECT_EQ(FormValue(form, "grant_type"), "refresh_token");
  EXPECT_EQ(FormValue(form, "refresh_token"), kRefresh);
  EXPECT_EQ(FormValue(form, "client_id"), "3MVG9testClientId");
  EXPECT_EQ(FormValue(form, "client_secret"), "<absent>");
}

TEST(TokenProvider, JwtBearerAssertionIsSignedWithTheKey) {
  FakeSalesforce sf;
  ManualClock clock(1'800'000'000'000'000'000);
  AuthConfig c = BaseConfig(sf, AuthFlow::kJwt, &clock);
  c.audience = "https://test.salesforce.com";
  auto p = MustProvider(c);
  ASSERT_TRUE(p->Get().ok());
  auto form = sf.last_form();
  EXPECT_EQ(FormValue(form, "grant_type"), "urn:ietf:params:oauth:grant-type:jwt-bearer");
  EXPECT_EQ(FormValue(form, "client_secret"), "<absent>");
  const std::string jwt = FormValue(form, "assertion");
  size_t d1 = jwt.find('.');
  size_t d2 = jwt.rfind('.');
  ASSERT_NE(d1, std::string::npos);
  ASSERT_NE(d1, d2);
  auto header = nlohmann::json::parse(Base64UrlDecode(jwt.substr(0, d1)).value_or("<invalid>"));
  auto claims =
      nlohmann::json::parse(Base64UrlDecode(jwt.substr(d1 + 1, d2 - d1 - 1)).value_or("<invalid>"));
  EXPECT_EQ(header["alg"], "RS256");
  EXPECT_EQ(claims["iss"], "3MVG9testClientId");
  EXPECT_EQ(claims["sub"], "integration@acme.example.com");
  EXPECT_EQ(claims["aud"], "https://test.salesforce.com");
  EXPECT_EQ(claims["exp"].get<int64_t>(), 1'800'000'000 + 180);
  EXPECT_TRUE(VerifyRs256(jwt, TestKey().public_pem));
  // A different key does not verify it (the check can fail).
  EVP_PKEY* other = EVP_RSA_gen(2048);
  BIO* b = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(b, other);
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  std::string other_pem(data, n);
  BIO_free(b);
  EVP_PKEY_free(other);
  EXPECT_FALSE(VerifyRs256(jwt, other_pem));
}

TEST(TokenProvider, JwtAudienceDefaultsToLoginUrl) {
  FakeSalesforce sf;
  ManualClock clock;
  auto p = MustProvider(BaseConfig(sf, AuthFlow::kJwt, &clock));
  ASSERT_TRUE(p->Get().ok());
  const std::string jwt = FormValue(sf.last_form(), "assertion");
  size_t d1 = jwt.find('.');
  size_t d2 = jwt.rfind('.');
  auto claims =
      nlohmann::json::parse(Base64UrlDecode(jwt.substr(d1 + 1, d2 - d1 - 1)).value_or("<invalid>"));
  EXPECT_EQ(claims["aud"], sf.url());
}

TEST(TokenProvider, GetReturnsCachedTokenUntilNinetyPercentOfTtl) {
  FakeSalesforce sf;
  ManualClock clock;
  AuthConfig c = BaseConfig(sf, AuthFlow::kClientCredentials, &clock);
  c.token_ttl = std::chrono::hours(1);
  auto p = MustProvider(c);
  auto t1 = p->Get();
  ASSERT_TRUE(t1.ok());
  clock.Advance(std::chrono::minutes(53));
  auto t2 = p->Get();
  ASSERT_TRUE(t2.ok());
  EXPECT_EQ(t2->token, t1->token);
  EXPECT_EQ(sf.requests(), 1);
  clock.Advance(std::chrono::minutes(1));  // 54 min = 90% of 1h
  auto t3 = p->Get();
  ASSERT_TRUE(t3.ok());
  EXPECT_NE(t3->token, t1->token);
  EXPECT_EQ(sf.requests(), 2);
  EXPECT_EQ(p->mint_count(), 2u);
}

TEST(TokenProvider, FailedProactiveRemintKeepsServingTheTokenUntilExpiry) {
  FakeSalesforce sf;
  ManualClock clock;
  AuthConfig c = BaseConfig(sf, AuthFlow::kClientCredentials, &clock);
  c.token_ttl = std::chrono::hours(1);
  auto p = MustProvider(c);
  auto t1 = p->Get();
  ASSERT_TRUE(t1.ok());
  sf.Fail(503, "{}");
  clock.Advance(std::chrono::minutes(55));  // past 90%, before 100%
  auto t2 = p->Get();
  ASSERT_TRUE(t2.ok()) << t2.status().ToString();
  EXPECT_EQ(t2->token, t1->token);
  EXPECT_EQ(sf.requests(), 2);
  // No new attempt within the retry interval.
  ASSERT_TRUE(p->Get().ok());
  EXPECT_EQ(sf.requests(), 2);
  clock.Advance(std::chrono::seconds(5));
  ASSERT_TRUE(p->Get().ok());
  EXPECT_EQ(sf.requests(), 3);
  // At the assumed expiry the error comes through.
  clock.Advance(std::chrono::minutes(5));
  auto t3 = p->Get();
  ASSERT_FALSE(t3.ok());
  EXPECT_EQ(t3.status().code(), StatusCode::kUnavailable);
  // A rejected token is never served again, even when re-minting fails.
  sf.Fail(0, "");
  auto t4 = p->Get();
  ASSERT_TRUE(t4.ok());
  sf.Fail(503, "{}");
  auto t5 = p->Refresh(t4->token);
  EXPECT_FALSE(t5.ok());
  EXPECT_FALSE(p->Get().ok());
}

TEST(TokenProvider, ConcurrentGetsSendOneRequest) {
  FakeSalesforce sf;
  ManualClock clock;
  auto p = MustProvider(BaseConfig(sf, AuthFlow::kClientCredentials, &clock));
  sf.Hold();
  constexpr int kThreads = 16;
  std::latch start(kThreads);
  std::vector<std::string> tokens(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      auto t = p->Get();
      tokens[i] = t.ok() ? t->token : t.status().ToString();
    });
  }
  ASSERT_TRUE(sf.WaitForRequests(1));
  sf.Release();
  for (auto& t : threads) t.join();
  EXPECT_EQ(sf.requests(), 1);
  for (const auto& t : tokens) EXPECT_EQ(t, "00D5e000000abcd!AQtoken-1");
}

TEST(TokenProvider, ConcurrentRefreshOfSameRejectedTokenMintsOnce) {
  FakeSalesforce sf;
  ManualClock clock;
  auto p = MustProvider(BaseConfig(sf, AuthFlow::kPassword, &clock));
  auto first = p->Get();
  ASSERT_TRUE(first.ok());
  constexpr int kThreads = 8;
  std::latch start(kThreads);
  std::vector<std::string> tokens(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      auto t = p->Refresh(first->token);
      tokens[i] = t.ok() ? t->token : t.status().ToString();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(sf.requests(), 2);
  for (const auto& t : tokens) EXPECT_EQ(t, "00D5e000000abcd!AQtoken-2");
}

TEST(TokenProvider, RefreshAfterRejectionMintsUnlessAlreadyReplaced) {
  FakeSalesforce sf;
  ManualClock clock;
  auto p = MustProvider(BaseConfig(sf, AuthFlow::kClientCredentials, &clock));
  auto t1 = p->Get();
  ASSERT_TRUE(t1.ok());
  auto t2 = p->Refresh(t1->token);
  ASSERT_TRUE(t2.ok());
  EXPECT_NE(t2->token, t1->token);
  EXPECT_EQ(sf.requests(), 2);
  // A late caller reporting the old token gets the new one without a request.
  auto t3 = p->Refresh(t1->token);
  ASSERT_TRUE(t3.ok());
  EXPECT_EQ(t3->token, t2->token);
  EXPECT_EQ(sf.requests(), 2);
  // Rejecting the current token mints again (at once: it served a while).
  clock.Advance(std::chrono::minutes(1));
  auto t4 = p->Refresh(t2->token);
  ASSERT_TRUE(t4.ok());
  EXPECT_NE(t4->token, t2->token);
  EXPECT_EQ(sf.requests(), 3);
  auto t5 = p->Get();
  ASSERT_TRUE(t5.ok());
  EXPECT_EQ(t5->token, t4->token);
}

// Found by tests/torture: a caller waiting for a mint in flight read the cached token
// after another caller had already dropped it as rejected (a disengaged optional),
// and sent a garbage tenant id that made gRPC abort the process. Every caller must
// get a token the server really issued, whatever the interleaving.
TEST(TokenProvider, ConcurrentRejectionsNeverServeADroppedToken) {
  FakeSalesforce sf;
  AuthConfig c = BaseConfig(sf, AuthFlow::kClientCredentials, Clock::Real());
  c.remint_initial_backoff = std::chrono::microseconds(1);
  c.remint_max_backoff = std::chrono::microseconds(1);
  auto p = MustProvider(c);
  std::atomic<int> bad{0}, served{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 150; ++i) {
        auto tok = p->Get();
        if (!tok.ok()) continue;  // backing off: no token to serve is a fine answer
        ++served;
        if (tok->token.rfind("00D5e000000abcd!AQtoken-", 0) != 0 || tok->org_id != kOrg) ++bad;
        (void)p->Refresh(tok->token);  // the server rejected it: drop it and re-mint
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0) << "a caller got a token the server never issued";
  EXPECT_GT(served.load(), 100);
}

TEST(TokenProvider, RepeatedRejectionsBackOffTheRemintRate) {
  FakeSalesforce sf;
  ManualClock clock;
  AuthConfig c = BaseConfig(sf, AuthFlow::kClientCredentials, &clock);
  c.remint_initial_backoff = std::chrono::seconds(1);
  c.remint_max_backoff = std::chrono::seconds(30);
  auto p = MustProvider(c);
  auto first = p->Get();
  ASSERT_TRUE(first.ok());
  // An auth fault repeated 300 times, 10 ms apart (3 s): every token is
  // rejected as soon as it is used, and the caller retries at once.
  std::string current = first->token;
  int backing_off = 0;
  for (int i = 0; i < 300; ++i) {
    auto t = p->Refresh(current);
    if (t.ok()) {
      current = t->token;
    } else {
      ASSERT_EQ(t.status().code(), StatusCode::kUnavailable) << t.status().ToString();
      EXPECT_THAT(t.status().message(), HasSubstr("next re-mint in"));
      ++backing_off;
      auto g = p->Get();  // no token to serve: backs off too, without a request
      ASSERT_FALSE(g.ok());
      EXPECT_EQ(g.status().code(), StatusCode::kUnavailable);
    }
    clock.Advance(std::chrono::milliseconds(10));
  }
  // One mint at once, then waits of >= 0.5 s, >= 1 s, >= 2 s (half of 1, 2, 4 s)
  // after each mint: at most 4 mints after the first in 3 s (not 300).
  EXPECT_LE(sf.requests(), 5) << "re-mints after repeated rejections must back off";
  EXPECT_GE(sf.requests(), 3);
  EXPECT_GT(backing_off, 250);
  // The wait is capped: 30 s later a mint goes out.
  clock.Advance(std::chrono::seconds(31));
  auto fresh = p->Get();
  ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
  // Success resets it: a token that served past the cap is re-minted at once.
  clock.Advance(std::chrono::seconds(31));
  const int before = sf.requests();
  auto again = p->Refresh(fresh->token);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(sf.requests(), before + 1);
}

TEST(TokenProvider, InvalidGrantIsUnauthenticatedNamingFlowAndDescription) {
  FakeSalesforce sf;
  ManualClock clock;
  sf.Fail(400, R"({"error":"invalid_grant","error_description":"authentication failure"})");
  auto p = MustProvider(BaseConfig(sf, AuthFlow::kPassword, &clock));
  auto t = p->Get();
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kUnauthenticated);
  EXPECT_THAT(t.status().message(), HasSubstr("password flow"));
  EXPECT_THAT(t.status().message(), HasSubstr("invalid_grant"));
  EXPECT_THAT(t.status().message(), HasSubstr("authentication failure"));
  ExpectNoSecrets(t.status().ToString());
}

TEST(TokenProvider, UnsupportedGrantIsInvalidArgument) {
  FakeSalesforce sf;
  ManualClock clock;
  sf.Fail(400,
          R"({"error":"unsupported_grant_type","error_description":"grant type not supported"})");
  auto p = MustProvider(BaseConfig(sf, AuthFlow::kClientCredentials, &clock));
  auto t = p->Get();
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(t.status().message(), HasSubstr("client_credentials flow"));
  EXPECT_THAT(t.status().message(), HasSubstr("grant type not supported"));
}

TEST(TokenProvider, ServerErrorsAreUnavailable) {
  FakeSalesforce sf;
  ManualClock clock;
  auto p = MustProvider(BaseConfig(sf, AuthFlow::kClientCredentials, &clock));
  for (int status : {500, 503, 429}) {
    sf.Fail(status, "<html>upstream down</html>");
    auto t = p->Get();
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.status().code(), StatusCode::kUnavailable) << status;
    EXPECT_THAT(t.status().message(), HasSubstr("HTTP " + std::to_string(status)));
  }
  // After the outage a Get mints normally.
  sf.Fail(0, "");
  EXPECT_TRUE(p->Get().ok());
}

TEST(TokenProvider, ConnectionRefusedIsUnavailable) {
  ManualClock clock;
  std::string url;
  {
    FakeSalesforce sf;  // learn a free port, then close it
    url = sf.url();
  }
  AuthConfig c;
  c.flow = AuthFlow::kClientCredentials;
  c.login_url = url;
  c.client_id = "id";
  c.client_secret = kSecret;
  c.clock = &clock;
  c.timeout = std::chrono::seconds(5);
  auto p = MustProvider(c);
  auto t = p->Get();
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(t.status().message(), HasSubstr("client_credentials flow"));
  ExpectNoSecrets(t.status().ToString());
}

TEST(TokenProvider, EchoedSecretsAreRedactedFromErrors) {
  FakeSalesforce sf;
  ManualClock clock;
  nlohmann::json body = {{"error", "invalid_client"},
                         {"error_description", std::string("bad secret ") + kSecret + " for " +
                                                   kPassword + kSecurityToken}};
  sf.Fail(400, body.dump());
  for (AuthFlow flow : {AuthFlow::kPassword, AuthFlow::kClientCredentials, AuthFlow::kJwt,
                        AuthFlow::kRefreshToken}) {
    auto p = MustProvider(BaseConfig(sf, flow, &clock));
    auto t = p->Get();
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.status().code(), StatusCode::kUnauthenticated);
    EXPECT_THAT(t.status().message(), HasSubstr("bad secret"));
    ExpectNoSecrets(t.status().ToString());
  }
}

TEST(TokenProvider, FormEncodedSecretsEchoedByTheTokenEndpointAreRedacted) {
  // Secrets whose form encoding differs from the raw text; the password flow
  // sends password and security token concatenated.
  const std::string secret = "CsEcho+ABC/DE=1&x";
  const std::string password = "pw Echo@99+/";
  const std::string token = "TokEcho/EN=9";
  const std::string refresh = "5AepEcho+refresh/tok==";
  FakeSalesforce sf;
  ManualClock clock;
  sf.FailEchoingForm(400, "bad request: ");
  for (AuthFlow flow :
       {AuthFlow::kPassword, AuthFlow::kClientCredentials, AuthFlow::kRefreshToken}) {
    AuthConfig c = BaseConfig(sf, flow, &clock);
    c.client_secret = secret;
    c.password = password;
    c.security_token = token;
    c.refresh_token = refresh;
    auto p = MustProvider(c);
    auto t = p->Get();
    ASSERT_FALSE(t.ok());
    const std::string msg = t.status().ToString();
    EXPECT_THAT(msg, HasSubstr("bad request: "));
    EXPECT_THAT(msg, HasSubstr("grant_type"));  // the echo is there, minus the secrets
    for (const std::string& s : {secret, password, token, refresh, password + token}) {
      EXPECT_THAT(msg, Not(HasSubstr(s))) << AuthFlowName(flow);
      EXPECT_THAT(msg, Not(HasSubstr(FormEncode({{"k", s}}).substr(2)))) << AuthFlowName(flow);
    }
    EXPECT_THAT(msg, Not(HasSubstr("CsEcho"))) << msg;
    EXPECT_THAT(msg, Not(HasSubstr("Echo%40"))) << msg;
    EXPECT_THAT(msg, Not(HasSubstr("TokEcho"))) << msg;
    EXPECT_THAT(msg, Not(HasSubstr("5AepEcho"))) << msg;
  }
}

TEST(TokenProvider, LogLinesCarryNoSecrets) {
  std::ostringstream captured;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(captured);
  auto logger = log::Get("salesforce.auth");
  logger->sinks().push_back(sink);
  logger->set_level(spdlog::level::trace);
  {
    FakeSalesforce sf;
    ManualClock clock;
    auto p = MustProvider(BaseConfig(sf, AuthFlow::kPassword, &clock));
    auto t = p->Get();
    ASSERT_TRUE(t.ok());
    sf.Fail(401, R"({"error":"invalid_grant","error_description":"expired"})");
    EXPECT_FALSE(p->Refresh(t->token).ok());
  }
  logger->sinks().pop_back();
  logger->flush();
  const std::string text = captured.str();
  EXPECT_THAT(text, HasSubstr("minted access token"));  // something was logged
  EXPECT_THAT(text, HasSubstr("expired"));
  ExpectNoSecrets(text);
}

TEST(TokenProvider, MalformedSuccessResponsesAreErrors) {
  FakeSalesforce sf;
  ManualClock clock;
  sf.SetIdUrl("https://login.salesforce.com/nothing-here");
  auto p = MustProvider(BaseConfig(sf, AuthFlow::kClientCredentials, &clock));
  auto t = p->Get();
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), HasSubstr("/id/<orgId>/<userId>"));
  ExpectNoSecrets(t.status().ToString());
}

TEST(TokenProvider, StaticTokenIsReturnedAndCannotBeRefreshed) {
  FakeSalesforce sf;
  ManualClock clock;
  AuthConfig c;
  c.flow = AuthFlow::kStatic;
  c.access_token = "00D5e000000abcd!AQstatic-token-value";
  c.instance_url = sf.url();
  c.org_id = kOrg;
  c.clock = &clock;
  sf.SetStaticToken(c.access_token);
  auto p = MustProvider(c);
  auto t = p->Get();
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->token, c.access_token);
  EXPECT_EQ(t->org_id, kOrg);
  auto info = p->FetchUserInfo();
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->organization_id, kOrg);
  EXPECT_EQ(info->user_id, kUser);
  auto r = p->Refresh(c.access_token);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
  EXPECT_THAT(r.status().message(), Not(HasSubstr("static-token-value")));
  EXPECT_EQ(sf.requests(), 0);
}

TEST(TokenProvider, FetchUserInfoRefreshesOnceAfter401) {
  FakeSalesforce sf;
  ManualClock clock;
  auto p = MustProvider(BaseConfig(sf, AuthFlow::kClientCredentials, &clock));
  auto t1 = p->Get();
  ASSERT_TRUE(t1.ok());
  sf.Revoke(t1->token);
  auto info = p->FetchUserInfo();
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->preferred_username, "integration@acme.example.com");
  EXPECT_EQ(sf.requests(), 2);
  EXPECT_EQ(sf.userinfo_requests(), 2);
}

TEST(TokenProvider, ConfigErrorsNameTheMissingKey) {
  ManualClock clock;
  AuthConfig c;
  c.flow = AuthFlow::kPassword;
  c.client_id = "id";
  c.client_secret = kSecret;
  c.username = "u";
  c.clock = &clock;
  auto p = NewTokenProvider(c);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(p.status().message(), HasSubstr("`password`"));

  c.flow = AuthFlow::kJwt;
  c.private_key_pem = "-----BEGIN PRIVATE KEY-----\nnot really a key " + std::string(kSecret) +
                      "\n-----END PRIVATE KEY-----\n";
  p = NewTokenProvider(c);
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(p.status().message(), HasSubstr("PEM private key"));
  ExpectNoSecrets(p.status().ToString());
}

TEST(TokenProvider, ParseIdentityUrlSplitsOrgAndUser) {
  std::string org, user;
  ASSERT_TRUE(
      ParseIdentityUrl("https://login.salesforce.com/id/00D5e000000abcdEAA/0055e000001xyzwAAA",
                       &org, &user)
          .ok());
  EXPECT_EQ(org, "00D5e000000abcdEAA");
  EXPECT_EQ(user, "0055e000001xyzwAAA");
  EXPECT_FALSE(ParseIdentityUrl("https://x/id/00D5e000000abcdEAA", &org, &user).ok());
  EXPECT_FALSE(ParseIdentityUrl("https://x/id/short/0055e000001xyzwAAA", &org, &user).ok());
  EXPECT_FALSE(ParseIdentityUrl("", &org, &user).ok());
}

TEST(TokenProvider, PubSubMetadataCarriesTokenInstanceAndTenant) {
  AccessToken t;
  t.token = "tok";
  t.instance_url = "https://acme.my.salesforce.com";
  t.org_id = kOrg;
  auto md = PubSubMetadata(t);
  ASSERT_EQ(md.size(), 3u);
  EXPECT_EQ(md[0], (std::pair<std::string, std::string>("accesstoken", "tok")));
  EXPECT_EQ(md[1].first, "instanceurl");
  EXPECT_EQ(md[1].second, "https://acme.my.salesforce.com");
  EXPECT_EQ(md[2], (std::pair<std::string, std::string>("tenantid", kOrg)));
}

TEST(HttpClient, FormEncodeEscapesReservedCharacters) {
  EXPECT_EQ(FormEncode({{"a", "b c"}, {"k&", "x=y+z/é"}}), "a=b%20c&k%26=x%3Dy%2Bz%2F%C3%A9");
}

TEST(Jwt, Base64UrlHasNoPadding) {
  EXPECT_EQ(Base64UrlEncode(""), "");
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(Base64UrlEncode("foo"), "Zm9v");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
}

using TempDir = ::forcepipe::testing::TempDir;

TEST(AuthConfig, MakeTokenProviderFromYamlWithPrivateKeyFile) {
  FakeSalesforce sf;
  TempDir dir;
  const std::string key_path = dir.path() + "/sf.key";
  {
    std::ofstream f(key_path);
    f << TestKey().private_pem;
  }
  YAML::Node yaml = YAML::Load("flow: jwt\nlogin_url: " + sf.url() +
                               "\nclient_id: 3MVG9x\nusername: u@example.com\n"
                               "private_key_file: " +
                               key_path + "\ntoken_ttl: 30m\n");
  auto node = config::Validate(yaml, AuthOptionTable(), "sources.sf.auth");
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  ManualClock clock;
  auto p = MakeTokenProvider(*node, &clock);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ((*p)->flow(), "jwt");
  auto t = (*p)->Get();
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_TRUE(VerifyRs256(FormValue(sf.last_form(), "assertion"), TestKey().public_pem));
  clock.Advance(std::chrono::minutes(27));  // 90% of 30m
  ASSERT_TRUE((*p)->Get().ok());
  EXPECT_EQ(sf.requests(), 2);
}

TEST(AuthConfig, MissingKeysAreReportedWithThePath) {
  YAML::Node yaml = YAML::Load("flow: client_credentials\nclient_id: abc\n");
  auto node = config::Validate(yaml, AuthOptionTable(), "sources.sf.auth");
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  auto p = MakeTokenProvider(*node);
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(p.status().message(), HasSubstr("sources.sf.auth"));
  EXPECT_THAT(p.status().message(), HasSubstr("client_secret"));
}

TEST(AuthConfig, UnknownFlowIsRejectedByTheTable) {
  YAML::Node yaml = YAML::Load("flow: saml\n");
  auto node = config::Validate(yaml, AuthOptionTable(), "auth");
  EXPECT_FALSE(node.ok());
}

}  // namespace
}  // namespace forcepipe::salesforce

namespace forcepipe::salesforce {
namespace {

constexpr char kIdUrl[] = "https://login.salesforce.com/id/00D000000000001AAA/005000000000001AAA";

TEST(ParseTokenResponse, AcceptsARealAnswerCuttingTheTrailingSlash) {
  auto r = ParseTokenResponse(
      "t",
      std::string(
          R"({"access_token":"00D!AQ","instance_url":"https://acme.my.salesforce.com//",)") +
          R"("id":")" + kIdUrl + R"(","issued_at":"1700000000123","refresh_token":"rt2"})",
      42);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->token.token, "00D!AQ");
  EXPECT_EQ(r->token.instance_url, "https://acme.my.salesforce.com");
  EXPECT_EQ(r->token.org_id, "00D000000000001AAA");
  EXPECT_EQ(r->token.user_id, "005000000000001AAA");
  EXPECT_EQ(r->token.issued_at_ms, 1700000000123);
  EXPECT_EQ(r->refresh_token, "rt2");
}

TEST(ParseTokenResponse, NamesWhatIsMissing) {
  const std::string id = std::string(R"("id":")") + kIdUrl + "\"";
  struct Case {
    std::string body, expected;
  } cases[] = {
      {"[1,2]", "not a JSON object"},
      {R"({"instance_url":"https://x",)" + id + "}", "lacks access_token"},
      {R"({"access_token":"a",)" + id + "}", "lacks instance_url"},
      {R"({"access_token":"a","instance_url":"https://x","id":"https://x/id/00D/005"})",
       "15/18-char org and user ids"},
  };
  for (const Case& c : cases) {
    auto r = ParseTokenResponse("auth", c.body, 42);
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
    EXPECT_THAT(r.status().message(), ::testing::HasSubstr(c.expected)) << c.body;
  }
}

TEST(ParseTokenResponse, ExoticIssuedAtFallsBackToNow) {
  for (const char* issued : {"", "-5", "12a", "99999999999999999999999"}) {
    auto r = ParseTokenResponse("t",
                                std::string(R"({"access_token":"a","instance_url":"https://x",)") +
                                    R"("id":")" + kIdUrl + R"(","issued_at":")" + issued + "\"}",
                                42);
    ASSERT_TRUE(r.ok()) << issued;
    EXPECT_EQ(r->token.issued_at_ms, 42) << issued;
  }
}

TEST(ParseTokenResponse, HostileIdentityUrlIsQuotedBoundedAndRedacted) {
  const std::string secret = "hostile-id-secret-3141";
  log::RegisterSecret(secret);
  const std::string id = "https://evil/" + secret + std::string(1 << 20, 'x');
  auto r = ParseTokenResponse(
      "auth", R"({"access_token":"a","instance_url":"https://x","id":")" + id + "\"}", 42);
  ASSERT_FALSE(r.ok());
  EXPECT_LT(r.status().message().size(), 1024u);
  EXPECT_EQ(r.status().message().find(secret), std::string::npos);
}

TEST(MapOAuthError, EchoedSecretIsRedactedAndCodesFollowTheStatus) {
  const std::string secret = "echoed-client-secret-2718";
  log::RegisterSecret(secret);
  Status s = MapOAuthError(
      "auth", 400, R"({"error":"invalid_client","error_description":"bad )" + secret + "\"}");
  EXPECT_EQ(s.code(), StatusCode::kUnauthenticated);
  EXPECT_THAT(s.message(), ::testing::HasSubstr("invalid_client"));
  EXPECT_EQ(s.message().find(secret), std::string::npos);
  EXPECT_EQ(MapOAuthError("auth", 429, "").code(), StatusCode::kUnavailable);
  EXPECT_EQ(MapOAuthError("auth", 400, R"({"error":"unsupported_grant_type"})").code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(MapOAuthError("auth", 403, "<html>").code(), StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace forcepipe::salesforce
