// Token providers against the real emulator's OAuth endpoints over HTTPS (its generated
// self-signed certificate as ca_file), in-process on loopback port 0.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "emulator/emulator.h"
#include "salesforce/auth/token_provider.h"

namespace forcepipe::salesforce {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class EmulatorAuth : public ::testing::Test {
 protected:
  void SetUp() override {
    emulator::EmulatorOptions o;
    o.generate = false;
    emu_ = std::make_unique<emulator::Emulator>(o);
    Status st = emu_->Start();
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  AuthConfig Config(AuthFlow flow) const {
    const auto& ep = emu_->endpoints();
    const auto& oo = emu_->oauth().options();
    AuthConfig c;
    c.flow = flow;
    c.login_url = ep.http_endpoint;
    c.ca_file = ep.ca_file;
    c.client_id = oo.client_id;
    c.client_secret = oo.client_secret;
    c.username = oo.username;
    c.password = oo.password;
    c.timeout = std::chrono::seconds(10);
    return c;
  }
  void ExpectValid(TokenProvider& p) {
    auto t = p.Get();
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    EXPECT_EQ(t->org_id, emu_->endpoints().tenant_id);
    EXPECT_EQ(t->user_id, emu_->oauth().user_id());
    EXPECT_EQ(t->instance_url, emu_->endpoints().instance_url);
    EXPECT_TRUE(emu_->tokens().CheckAccess(t->token).has_value());
    auto info = p.FetchUserInfo();
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    EXPECT_EQ(info->organization_id, emu_->endpoints().tenant_id);
    EXPECT_EQ(info->preferred_username, emu_->oauth().options().username);
  }

  std::unique_ptr<emulator::Emulator> emu_;
};

TEST_F(EmulatorAuth, ClientCredentialsFlowMintsAUsableToken) {
  auto p = NewTokenProvider(Config(AuthFlow::kClientCredentials));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ExpectValid(**p);
}

TEST_F(EmulatorAuth, PasswordFlowMintsAUsableToken) {
  auto p = NewTokenProvider(Config(AuthFlow::kPassword));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ExpectValid(**p);
}

TEST_F(EmulatorAuth, JwtBearerFlowIsAcceptedByTheEmulator) {
  ASSERT_FALSE(emu_->endpoints().jwt_key_file.empty());
  AuthConfig c = Config(AuthFlow::kJwt);
  c.client_secret.clear();
  c.private_key_pem = Slurp(emu_->endpoints().jwt_key_file);
  c.audience = "https://login.salesforce.com";
  auto p = NewTokenProvider(c);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ExpectValid(**p);
}

TEST_F(EmulatorAuth, RefreshTokenFlowMintsAUsableToken) {
  AuthConfig c = Config(AuthFlow::kRefreshToken);
  c.refresh_token =
      emu_->tokens().IssueRefreshToken(emu_->oauth().options().username, emu_->oauth().user_id());
  auto p = NewTokenProvider(c);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ExpectValid(**p);
}

TEST_F(EmulatorAuth, StaticTokenFetchesUserInfo) {
  AuthConfig c = Config(AuthFlow::kStatic);
  c.access_token = emu_->endpoints().access_token;
  c.instance_url = emu_->endpoints().instance_url;
  c.org_id = emu_->endpoints().tenant_id;
  auto p = NewTokenProvider(c);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  auto info = (*p)->FetchUserInfo();
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->organization_id, emu_->endpoints().tenant_id);
}

TEST_F(EmulatorAuth, RevokedTokenIsReplacedByRefresh) {
  auto p = NewTokenProvider(Config(AuthFlow::kClientCredentials));
  ASSERT_TRUE(p.ok());
  auto t1 = (*p)->Get();
  ASSERT_TRUE(t1.ok());
  ASSERT_TRUE(emu_->tokens().Revoke(t1->token));
  auto t2 = (*p)->Refresh(t1->token);
  ASSERT_TRUE(t2.ok()) << t2.status().ToString();
  EXPECT_NE(t2->token, t1->token);
  EXPECT_TRUE(emu_->tokens().CheckAccess(t2->token).has_value());
  EXPECT_EQ((*p)->mint_count(), 2u);
}

TEST_F(EmulatorAuth, WrongSecretIsUnauthenticatedWithoutLeakingIt) {
  AuthConfig c = Config(AuthFlow::kPassword);
  c.client_secret = "definitely-wrong-client-secret";
  auto p = NewTokenProvider(c);
  ASSERT_TRUE(p.ok());
  auto t = (*p)->Get();
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kUnauthenticated);
  EXPECT_THAT(t.status().message(), HasSubstr("password flow"));
  EXPECT_THAT(t.status().message(), HasSubstr("invalid client credentials"));
  EXPECT_THAT(t.status().ToString(), Not(HasSubstr(c.client_secret)));
  EXPECT_THAT(t.status().ToString(), Not(HasSubstr(c.password)));
}

TEST_F(EmulatorAuth, WrongPasswordIsInvalidGrant) {
  AuthConfig c = Config(AuthFlow::kPassword);
  c.password = "wrong-password-value";
  auto p = NewTokenProvider(c);
  ASSERT_TRUE(p.ok());
  auto t = (*p)->Get();
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kUnauthenticated);
  EXPECT_THAT(t.status().message(), HasSubstr("invalid_grant"));
  EXPECT_THAT(t.status().ToString(), Not(HasSubstr(c.password)));
}

TEST_F(EmulatorAuth, TlsIsVerifiedWithoutCaFile) {
  AuthConfig c = Config(AuthFlow::kClientCredentials);
  c.ca_file.clear();  // the self-signed certificate is not in the system store
  auto p = NewTokenProvider(c);
  ASSERT_TRUE(p.ok());
  auto t = (*p)->Get();
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kUnavailable);

  c.insecure_skip_verify = true;
  auto q = NewTokenProvider(c);
  ASSERT_TRUE(q.ok());
  EXPECT_TRUE((*q)->Get().ok());
}

}  // namespace
}  // namespace forcepipe::salesforce
