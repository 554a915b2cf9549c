#include "salesforce/auth/token_provider.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <vector>

#include "core/log.h"
#include "salesforce/auth/http_client.h"
#include "salesforce/auth/jwt.h"

namespace forcepipe::salesforce {

namespace {

constexpr char kTokenPath[] = "/services/oauth2/token";
constexpr char kUserInfoPath[] = "/services/oauth2/userinfo";
constexpr char kJwtGrant[] = "urn:ietf:params:oauth:grant-type:jwt-bearer";
// After a failed proactive re-mint, how long Get() keeps serving the old token before
// trying again.
constexpr Duration kRetryInterval = std::chrono::seconds(5);

std::string TrimSlash(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

bool IsSalesforceId(std::string_view id) {
  if (id.size() != 15 && id.size() != 18) return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return false;
  }
  return true;
}

std::string JsonString(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

// A bounded, redacted excerpt of a response body for error messages. Redacted
// before it is cut, so a secret at the cut leaves no prefix behind.
std::string Excerpt(const std::string& body) {
  std::string s = log::Redact(body.substr(0, 64 * 1024)).substr(0, 200);
  for (char& c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return s;
}

Status CheckCommon(const AuthConfig& c) {
  if (c.token_ttl <= Duration::zero())
    return Status::InvalidArgument("auth: token_ttl must be > 0");
  if (c.timeout <= Duration::zero()) return Status::InvalidArgument("auth: timeout must be > 0");
  if (!c.clock) return Status::InvalidArgument("auth: no clock");
  return Status::Ok();
}

Status Require(const AuthConfig& c, const std::string& value, const char* key) {
  if (value.empty()) {
    return Status::InvalidArgument("auth: flow " + std::string(AuthFlowName(c.flow)) + " needs `" +
                                   key + "`");
  }
  return Status::Ok();
}

void RegisterSecrets(const AuthConfig& c) {
  for (const std::string* s : {&c.client_secret, &c.password, &c.security_token, &c.private_key_pem,
                               &c.refresh_token, &c.access_token}) {
    if (!s->empty()) log::RegisterSecret(*s);
  }
  if (!c.password.empty() && !c.security_token.empty()) {
    log::RegisterSecret(c.password + c.security_token);
  }
}

// GET userinfo; shared by both providers.
Result<UserInfo> GetUserInfo(const HttpClient& http, TokenProvider* provider) {
  FP_ASSIGN_OR_RETURN(AccessToken token, provider->Get());
  for (int attempt = 0;; ++attempt) {
    HttpRequest req;
    req.method = "GET";
    req.url = token.instance_url + kUserInfoPath;
    req.headers = {{"Authorization", "Bearer " + token.token}, {"Accept", "application/json"}};
    FP_ASSIGN_OR_RETURN(HttpResponse resp, http.Send(req));
    if (resp.status == 401 && attempt == 0 && provider->flow() != "static") {
      FP_ASSIGN_OR_RETURN(token, provider->Refresh(token.token));
      continue;
    }
    const std::string what = "salesforce userinfo (" + std::string(provider->flow()) + " flow)";
    if (resp.status < 200 || resp.status >= 300) return MapOAuthError(what, resp.status, resp.body);
    nlohmann::json j = nlohmann::json::parse(resp.body, nullptr, false);
    if (!j.is_object()) return Status::Unavailable(what + ": response is not a JSON object");
    UserInfo info;
    info.user_id = JsonString(j, "user_id");
    info.organization_id = JsonString(j, "organization_id");
    info.preferred_username = JsonString(j, "preferred_username");
    info.email = JsonString(j, "email");
    info.name = JsonString(j, "name");
    info.raw_json = std::move(resp.body);
    if (info.organization_id.empty() || info.user_id.empty()) {
      return Status::Unavailable(what + ": response lacks organization_id/user_id");
    }
    return info;
  }
}

HttpClientOptions HttpOptionsOf(const AuthConfig& c) {
  HttpClientOptions o;
  o.timeout = c.timeout;
  o.connect_timeout = std::min<Duration>(c.timeout, std::chrono::seconds(10));
  o.ca_file = c.ca_file;
  o.insecure_skip_verify = c.insecure_skip_verify;
  return o;
}

class StaticTokenProvider final : public TokenProvider {
 public:
  explicit StaticTokenProvider(const AuthConfig& c) : http_(HttpOptionsOf(c)) {
    token_.token = c.access_token;
    token_.instance_url = TrimSlash(c.instance_url);
    token_.org_id = c.org_id;
    token_.issued_at_ms = c.clock->NowUnixNanos() / 1'000'000;
  }
  Result<AccessToken> Get() override { return token_; }
  Result<AccessToken> Refresh(const std::string& rejected_token) override {
    return Status::Unauthenticated(
        "salesforce auth (static flow): the configured access_token was rejected and cannot be "
        "re-minted; configure a jwt, client_credentials, password or refresh_token flow");
  }
  Result<UserInfo> FetchUserInfo() override { return GetUserInfo(http_, this); }
  std::string_view flow() const override { return "static"; }
  uint64_t mint_count() const override { return 0; }

 private:
  HttpClient http_;
  AccessToken token_;
};

class OAuthTokenProvider final : public TokenProvider {
 public:
  OAuthTokenProvider(AuthConfig c, std::unique_ptr<JwtSigner> signer)
      : config_(std::move(c)), http_(HttpOptionsOf(config_)), signer_(std::move(signer)) {
    config_.login_url = TrimSlash(config_.login_url);
    if (config_.audience.empty()) config_.audience = config_.login_url;
    refresh_after_ = std::chrono::duration_cast<Duration>(config_.token_ttl * 9 / 10);
  }

  Result<AccessToken> Get() override {
    std::unique_lock l(mu_);
    if (minting_) return OrStillValid(AwaitMint(l));
    const SteadyTime now = config_.clock->SteadyNow();
    if (token_ && now < refresh_at_) return *token_;
    // Past 90%: while a proactive re-mint keeps failing, the old token (not yet at its
    // assumed expiry) is still served, with at most one attempt per kRetryInterval.
    if (token_ && now < expires_at_ && now < next_attempt_) return *token_;
    if (!token_ && now < remint_not_before_) return BackingOff(now);
    Result<AccessToken> r = MintLocked(l);
    if (!r.ok() && token_ && config_.clock->SteadyNow() < expires_at_) {
      log::Get("salesforce.auth")
          ->warn("re-minting failed, keeping the current token until its assumed expiry: {}",
                 r.status().ToString());
    }
    return OrStillValid(std::move(r));
  }

  Result<AccessToken> Refresh(const std::string& rejected_token) override {
    std::unique_lock l(mu_);
    if (minting_) return AwaitMint(l);
    if (token_ && token_->token != rejected_token) return *token_;
    const SteadyTime now = config_.clock->SteadyNow();
    if (token_) {
      // A token that served a while before its rejection (expired, revoked) worked:
      // this rejection starts a new run.
      if (now - minted_at_ >= config_.remint_max_backoff) rejections_ = 0;
      ++rejections_;
      if (rejections_ >= 2) remint_not_before_ = minted_at_ + RemintBackoff(rejections_ - 2);
      token_.reset();  // rejected: never serve it again, even if the re-mint fails
    }
    if (now < remint_not_before_) return BackingOff(now);
    return MintLocked(l);
  }

  Result<UserInfo> FetchUserInfo() override { return GetUserInfo(http_, this); }
  std::string_view flow() const override { return AuthFlowName(config_.flow); }
  uint64_t mint_count() const override { return mints_.load(); }

 private:
  // REQUIRES: mu_ held. The wait after the previous mint before re-mint number
  // `n` + 2 of a run of rejections: initial * 2^n capped at max, half of it random.
  Duration RemintBackoff(int n) {
    int64_t cap = config_.remint_initial_backoff.count();
    for (int i = 0; i < n && cap < config_.remint_max_backoff.count(); ++i) cap *= 2;
    cap = std::max<int64_t>(std::min<int64_t>(cap, config_.remint_max_backoff.count()), 2);
    std::uniform_int_distribution<int64_t> half(0, cap / 2);
    return Duration(cap - cap / 2 + half(rng_));
  }

  // REQUIRES: mu_ held, now < remint_not_before_.
  Status BackingOff(SteadyTime now) const {
    return Status::Unavailable("salesforce auth (" + std::string(AuthFlowName(config_.flow)) +
                               " flow): " + std::to_string(rejections_) +
                               " tokens in a row were rejected; next re-mint in " +
                               std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                  remint_not_before_ - now)
                                                  .count()) +
                               "ms");
  }

  // REQUIRES: mu_ held. A failed result becomes the cached token while that one is
  // still within its assumed lifetime (a rejected token is no longer cached).
  Result<AccessToken> OrStillValid(Result<AccessToken> r) {
    if (r.ok() || !token_ || config_.clock->SteadyNow() >= expires_at_) return r;
    return *token_;
  }

  // REQUIRES: l holds mu_ and minting_. Waits for the mint in flight; returns its result.
  // Not token_: between the mint's end and this waiter taking mu_ again, another caller
  // may already have dropped that token as rejected (token_ empty, or a newer one).
  Result<AccessToken> AwaitMint(std::unique_lock<std::mutex>& l) {
    const uint64_t gen = generation_;
    cv_.wait(l, [&] { return generation_ != gen; });
    if (last_error_) return *last_error_;
    return last_minted_;
  }

  // REQUIRES: l holds mu_, !minting_. Mints with mu_ released; wakes all waiters.
  Result<AccessToken> MintLocked(std::unique_lock<std::mutex>& l) {
    minting_ = true;
    l.unlock();
    Result<AccessToken> r = Mint();
    l.lock();
    minting_ = false;
    ++generation_;
    const SteadyTime now = config_.clock->SteadyNow();
    if (r.ok()) {
      token_ = *r;
      last_minted_ = *r;
      minted_at_ = now;
      refresh_at_ = now + refresh_after_;
      expires_at_ = now + config_.token_ttl;
      last_error_.reset();
    } else {
      last_error_ = r.status();
      next_attempt_ = now + kRetryInterval;
    }
    cv_.notify_all();
    return r;
  }

  // Runs without mu_, never concurrently with itself (minting_).
  Result<AccessToken> Mint() {
    mints_.fetch_add(1);
    const std::string what =
        "salesforce auth (" + std::string(AuthFlowName(config_.flow)) + " flow)";
    std::vector<std::pair<std::string, std::string>> form;
    switch (config_.flow) {
      case AuthFlow::kJwt: {
        JwtClaims claims;
        claims.iss = config_.client_id;
        claims.sub = config_.username;
        claims.aud = config_.audience;
        claims.exp = (config_.clock->NowUnixNanos() / 1'000'000'000) +
                     std::chrono::duration_cast<std::chrono::seconds>(config_.jwt_lifetime).count();
        auto assertion = signer_->Sign(claims);
        if (!assertion.ok()) return assertion.status().WithContext(what);
        log::RegisterSecret(*assertion);
        form = {{"grant_type", kJwtGrant}, {"assertion", *assertion}};
        break;
      }
      case AuthFlow::kClientCredentials:
        form = {{"grant_type", "client_credentials"},
                {"client_id", config_.client_id},
                {"client_secret", config_.client_secret}};
        break;
      case AuthFlow::kPassword:
        form = {{"grant_type", "password"},
                {"client_id", config_.client_id},
                {"client_secret", config_.client_secret},
                {"username", config_.username},
                {"password", config_.password + config_.security_token}};
        break;
      case AuthFlow::kRefreshToken:
        form = {{"grant_type", "refresh_token"},
                {"client_id", config_.client_id},
                {"refresh_token", config_.refresh_token}};
        if (!config_.client_secret.empty())
          form.emplace_back("client_secret", config_.client_secret);
        break;
      case AuthFlow::kStatic:
        return Status::Internal("static flow cannot mint");
    }
    HttpRequest req;
    req.method = "POST";
    req.url = config_.login_url + kTokenPath;
    req.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                   {"Accept", "application/json"}};
    req.body = FormEncode(form);
    auto resp = http_.Send(req);
    if (!resp.ok()) {
      return Status(resp.status().code(), log::Redact(what + ": " + resp.status().message()));
    }
    if (resp->status < 200 || resp->status >= 300) {
      Status s = MapOAuthError(what + ": token request", resp->status, resp->body);
      log::Get("salesforce.auth")->warn("{}", s.ToString());
      return s;
    }
    FP_ASSIGN_OR_RETURN(
        TokenResponse parsed,
        ParseTokenResponse(what, resp->body, config_.clock->NowUnixNanos() / 1'000'000));
    AccessToken t = std::move(parsed.token);
    log::RegisterSecret(t.token);
    if (!parsed.refresh_token.empty() && config_.flow == AuthFlow::kRefreshToken) {
      log::RegisterSecret(parsed.refresh_token);  // refresh token rotation
      config_.refresh_token = parsed.refresh_token;
    }
    log::Get("salesforce.auth")
        ->info("minted access token (flow {}, org {}, instance {})", AuthFlowName(config_.flow),
               t.org_id, t.instance_url);
    return t;
  }

  AuthConfig config_;
  const HttpClient http_;
  const std::unique_ptr<JwtSigner> signer_;
  Duration refresh_after_;
  std::atomic<uint64_t> mints_{0};

  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<AccessToken> token_;             // GUARDED_BY(mu_)
  SteadyTime refresh_at_;                        // GUARDED_BY(mu_): 90% of token_ttl
  SteadyTime expires_at_;                        // GUARDED_BY(mu_): 100% of token_ttl
  SteadyTime next_attempt_;                      // GUARDED_BY(mu_): after a failed mint
  SteadyTime minted_at_;                         // GUARDED_BY(mu_): when token_ was minted
  int rejections_ = 0;                           // GUARDED_BY(mu_): tokens rejected in a row
  SteadyTime remint_not_before_;                 // GUARDED_BY(mu_): re-mint backoff
  std::mt19937_64 rng_{std::random_device{}()};  // GUARDED_BY(mu_)
  bool minting_ = false;                         // GUARDED_BY(mu_)
  uint64_t generation_ = 0;                      // GUARDED_BY(mu_): completed mints
  std::optional<Status> last_error_;             // GUARDED_BY(mu_): result of the last mint
  AccessToken last_minted_;                      // GUARDED_BY(mu_): token of the last good mint
};

}  // namespace

std::string_view AuthFlowName(AuthFlow flow) {
  switch (flow) {
    case AuthFlow::kJwt:
      return "jwt";
    case AuthFlow::kClientCredentials:
      return "client_credentials";
    case AuthFlow::kPassword:
      return "password";
    case AuthFlow::kRefreshToken:
      return "refresh_token";
    case AuthFlow::kStatic:
      return "static";
  }
  return "unknown";
}

std::vector<std::pair<std::string, std::string>> PubSubMetadata(const AccessToken& token) {
  return {{"accesstoken", token.token},
          {"instanceurl", token.instance_url},
          {"tenantid", token.org_id}};
}

Status MapOAuthError(std::string_view what, long status, const std::string& body) {
  std::string error, description;
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object()) {
    error = JsonString(j, "error");
    description = JsonString(j, "error_description");
  } else if (j.is_array() && !j.empty() && j[0].is_object()) {  // REST style [{message,errorCode}]
    error = JsonString(j[0], "errorCode");
    description = JsonString(j[0], "message");
  }
  std::string msg = std::string(what) + ": HTTP " + std::to_string(status);
  if (!error.empty()) {
    msg += ": " + error;
    if (!description.empty()) msg += ": " + description;
  } else if (!body.empty()) {
    msg += ": " + Excerpt(body);
  }
  msg = log::Redact(msg);
  if (status == 429 || status >= 500) return Status::Unavailable(msg);
  if (error == "invalid_request" || error == "unsupported_grant_type" ||
      error == "unsupported_response_type") {
    return Status::InvalidArgument(msg);
  }
  if (status == 403 && error.empty()) return Status::PermissionDenied(msg);
  return Status::Unauthenticated(msg);
}

Result<TokenResponse> ParseTokenResponse(std::string_view what, const std::string& body,
                                         int64_t now_ms) {
  const std::string w(what);
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Status::Unavailable(w + ": token response is not a JSON object");
  TokenResponse r;
  AccessToken& t = r.token;
  t.token = JsonString(j, "access_token");
  if (t.token.empty()) return Status::Unavailable(w + ": token response lacks access_token");
  t.instance_url = TrimSlash(JsonString(j, "instance_url"));
  if (t.instance_url.empty()) {
    return Status::Unavailable(w + ": token response lacks instance_url");
  }
  FP_RETURN_IF_ERROR(ParseIdentityUrl(JsonString(j, "id"), &t.org_id, &t.user_id)
                         .WithContext(w + ": token response"));
  const std::string issued = JsonString(j, "issued_at");
  t.issued_at_ms = now_ms;
  if (!issued.empty() && issued.size() < 19 &&
      issued.find_first_not_of("0123456789") == std::string::npos) {
    t.issued_at_ms = std::stoll(issued);
  }
  r.refresh_token = JsonString(j, "refresh_token");
  return r;
}

Status ParseIdentityUrl(std::string_view id_url, std::string* org_id, std::string* user_id) {
  const size_t p = id_url.rfind("/id/");
  if (p == std::string_view::npos) {
    return Status::Unavailable("identity URL `" + Excerpt(std::string(id_url)) +
                               "` is not of the form .../id/<orgId>/<userId>");
  }
  std::string_view rest = id_url.substr(p + 4);
  const size_t slash = rest.find('/');
  std::string_view org = rest.substr(0, slash);
  std::string_view user = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  while (!user.empty() && user.back() == '/') user.remove_suffix(1);
  if (!IsSalesforceId(org) || !IsSalesforceId(user)) {
    return Status::Unavailable("identity URL `" + Excerpt(std::string(id_url)) +
                               "` does not carry 15/18-char org and user ids");
  }
  *org_id = std::string(org);
  *user_id = std::string(user);
  return Status::Ok();
}

Result<std::unique_ptr<TokenProvider>> NewTokenProvider(AuthConfig c) {
  RegisterSecrets(c);
  FP_RETURN_IF_ERROR(CheckCommon(c));
  if (c.flow == AuthFlow::kStatic) {
    FP_RETURN_IF_ERROR(Require(c, c.access_token, "access_token"));
    FP_RETURN_IF_ERROR(Require(c, c.instance_url, "instance_url"));
    FP_RETURN_IF_ERROR(Require(c, c.org_id, "org_id"));
    if (!IsSalesforceId(c.org_id)) {
      return Status::InvalidArgument("auth: org_id must be a 15 or 18 character Salesforce id");
    }
    return std::unique_ptr<TokenProvider>(new StaticTokenProvider(c));
  }
  FP_RETURN_IF_ERROR(Require(c, c.login_url, "login_url"));
  FP_RETURN_IF_ERROR(Require(c, c.client_id, "client_id"));
  std::unique_ptr<JwtSigner> signer;
  switch (c.flow) {
    case AuthFlow::kJwt: {
      FP_RETURN_IF_ERROR(Require(c, c.username, "username"));
      FP_RETURN_IF_ERROR(Require(c, c.private_key_pem, "private_key"));
      FP_ASSIGN_OR_RETURN(signer, JwtSigner::Create(c.private_key_pem));
      break;
    }
    case AuthFlow::kClientCredentials:
      FP_RETURN_IF_ERROR(Require(c, c.client_secret, "client_secret"));
      break;
    case AuthFlow::kPassword:
      FP_RETURN_IF_ERROR(Require(c, c.client_secret, "client_secret"));
      FP_RETURN_IF_ERROR(Require(c, c.username, "username"));
      FP_RETURN_IF_ERROR(Require(c, c.password, "password"));
      break;
    case AuthFlow::kRefreshToken:
      FP_RETURN_IF_ERROR(Require(c, c.refresh_token, "refresh_token"));
      break;
    case AuthFlow::kStatic:
      break;
  }
  return std::unique_ptr<TokenProvider>(new OAuthTokenProvider(std::move(c), std::move(signer)));
}

}  // namespace forcepipe::salesforce
