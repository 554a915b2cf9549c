#include "emulator/oauth.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <nlohmann/json.hpp>

#include "emulator/generator.h"
#include "emulator/util.h"

namespace forcepipe::emulator {

namespace {
std::string FormValue(const std::multimap<std::string, std::string>& form, const char* key) {
  auto it = form.find(key);
  return it == form.end() ? "" : it->second;
}

// Constant-time string comparison for secrets.
bool SecretEquals(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char d = 0;
  for (size_t i = 0; i < a.size(); ++i) d |= static_cast<unsigned char>(a[i] ^ b[i]);
  return d == 0;
}

EVP_PKEY* PublicKeyFromPem(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = nullptr;
  if (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    key = X509_get_pubkey(cert);
    X509_free(cert);
  } else {
    BIO_free(bio);
    bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  }
  BIO_free(bio);
  return key;
}
}  // namespace

OAuthService::OAuthService(TokenStore* tokens, Clock* clock, OAuthOptions options,
                           std::string org_id)
    : tokens_(tokens), clock_(clock), options_(std::move(options)), org_id_(std::move(org_id)) {
  user_id_ = options_.user_id.empty() ? SalesforceId("005", 777) : options_.user_id;
}

Status OAuthService::SetJwtVerificationPem(const std::string& pem) {
  EVP_PKEY* key = PublicKeyFromPem(pem);
  if (!key)
    return Status::InvalidArgument(
        "JWT verification PEM is neither a certificate nor a public key");
  EVP_PKEY_free(key);
  std::lock_guard g(mu_);
  jwt_pem_ = pem;
  return Status::Ok();
}

void OAuthService::SetInstanceUrl(std::string url) {
  std::lock_guard g(mu_);
  instance_url_ = std::move(url);
}

std::string OAuthService::instance_url() const {
  std::lock_guard g(mu_);
  return instance_url_;
}

HttpReply OAuthService::Error(const std::string& error, const std::string& description) {
  nlohmann::json j = {{"error", error}, {"error_description", description}};
  return {400, j.dump()};
}

HttpReply OAuthService::Success(const std::string& username, bool with_refresh) {
  std::string token = tokens_->IssueAccessToken(username, user_id_);
  const std::string id = "https://login.salesforce.com/id/" + org_id_ + "/" + user_id_;
  const std::string issued_at = std::to_string(NowMillis(*clock_));
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  const std::string msg = id + issued_at;
  HMAC(EVP_sha256(), options_.client_secret.data(), static_cast<int>(options_.client_secret.size()),
       reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), mac, &mac_len);
  nlohmann::json j = {
      {"access_token", token},
      {"instance_url", instance_url()},
      {"id", id},
      {"token_type", "Bearer"},
      {"issued_at", issued_at},
      {"signature", Base64Encode(std::string(reinterpret_cast<char*>(mac), mac_len))},
      {"scope", "api refresh_token"}};
  if (with_refresh) j["refresh_token"] = tokens_->IssueRefreshToken(username, user_id_);
  return {200, j.dump()};
}

Result<std::string> OAuthService::VerifyJwt(const std::string& assertion, HttpReply* error) const {
  auto fail = [&](const std::string& e, const std::string& d) -> Status {
    *error = Error(e, d);
    return Status::Unauthenticated(d);
  };
  size_t d1 = assertion.find('.');
  size_t d2 = d1 == std::string::npos ? d1 : assertion.find('.', d1 + 1);
  if (d2 == std::string::npos) return fail("invalid_grant", "invalid assertion");
  auto header = Base64UrlDecode(std::string_view(assertion).substr(0, d1));
  auto payload = Base64UrlDecode(std::string_view(assertion).substr(d1 + 1, d2 - d1 - 1));
  auto sig = Base64UrlDecode(std::string_view(assertion).substr(d2 + 1));
  if (!header || !payload || !sig) return fail("invalid_grant", "invalid assertion");
  nlohmann::json h, p;
  try {
    h = nlohmann::json::parse(*header);
    p = nlohmann::json::parse(*payload);
  } catch (const std::exception&) {
    return fail("invalid_grant", "invalid assertion");
  }
  if (!h.is_object() || h.value("alg", "") != "RS256" || !p.is_object()) {
    return fail("invalid_grant", "invalid assertion");
  }
  std::string pem;
  {
    std::lock_guard g(mu_);
    pem = jwt_pem_;
  }
  EVP_PKEY* key = pem.empty() ? nullptr : PublicKeyFromPem(pem);
  if (!key) return fail("invalid_grant", "invalid assertion");
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const std::string signed_part = assertion.substr(0, d2);
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig->data()), sig->size(),
                             reinterpret_cast<const unsigned char*>(signed_part.data()),
                             signed_part.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  if (!ok) return fail("invalid_grant", "invalid assertion");

  if (!p.contains("iss") || !p["iss"].is_string() || p["iss"] != options_.client_id) {
    return fail("invalid_client_id", "client identifier invalid");
  }
  std::vector<std::string> auds = options_.audiences;
  auds.push_back(instance_url());
  bool aud_ok = false;
  auto check_aud = [&](const nlohmann::json& a) {
    if (!a.is_string()) return;
    std::string s = a.get<std::string>();
    while (!s.empty() && s.back() == '/') s.pop_back();
    for (const auto& x : auds) aud_ok |= (s == x);
  };
  if (p.contains("aud")) {
    if (p["aud"].is_array()) {
      for (const auto& a : p["aud"]) check_aud(a);
    } else {
      check_aud(p["aud"]);
    }
  }
  if (!aud_ok) return fail("invalid_grant", "audience is invalid");
  int64_t exp = -1;
  if (p.contains("exp")) {
    const auto& e = p["exp"];
    if (e.is_number_integer()) {
      exp = e.get<int64_t>();
    } else if (e.is_number()) {
      exp = static_cast<int64_t>(e.get<double>());
    } else if (e.is_string()) {
      const std::string s = e.get<std::string>();
      if (!s.empty() && s.find_first_not_of("0123456789") == std::string::npos && s.size() < 19) {
        exp = std::stoll(s);
      }
    }
  }
  if (exp < 0) return fail("invalid_grant", "invalid assertion");
  if (exp * 1000 <= NowMillis(*clock_)) return fail("invalid_grant", "expired authorization code");
  std::string sub = p.value("sub", "");
  if (sub != options_.username) return fail("invalid_grant", "user hasn't approved this consumer");
  return sub;
}

HttpReply OAuthService::Token(const std::multimap<std::string, std::string>& form,
                              const std::string& authorization) {
  const std::string grant = FormValue(form, "grant_type");
  std::string client_id = FormValue(form, "client_id");
  std::string client_secret = FormValue(form, "client_secret");
  if (authorization.rfind("Basic ", 0) == 0) {
    auto decoded = Base64Decode(authorization.substr(6));
    if (decoded) {
      size_t colon = decoded->find(':');
      if (colon != std::string::npos) {
        client_id = decoded->substr(0, colon);
        client_secret = decoded->substr(colon + 1);
      }
    }
  }
  if (grant == "urn:ietf:params:oauth:grant-type:jwt-bearer") {
    HttpReply err;
    auto sub = VerifyJwt(FormValue(form, "assertion"), &err);
    if (!sub.ok()) return err;
    return Success(*sub, false);
  }
  if (grant == "client_credentials" || grant == "password" || grant == "refresh_token") {
    if (client_id != options_.client_id)
      return Error("invalid_client_id", "client identifier invalid");
    const bool needs_secret = grant != "refresh_token" || !client_secret.empty();
    if (needs_secret && !SecretEquals(client_secret, options_.client_secret)) {
      return Error("invalid_client", "invalid client credentials");
    }
    if (grant == "client_credentials") return Success(options_.username, false);
    if (grant == "password") {
      if (FormValue(form, "username") != options_.username ||
          !SecretEquals(FormValue(form, "password"), options_.password)) {
        return Error("invalid_grant", "authentication failure");
      }
      return Success(options_.username, false);
    }
    auto info = tokens_->CheckRefresh(FormValue(form, "refresh_token"));
    if (!info) return Error("invalid_grant", "expired access/refresh token");
    return Success(info->username, false);
  }
  if (grant.empty()) return Error("invalid_request", "grant type not supported");
  return Error("unsupported_grant_type", "grant type not supported");
}

HttpReply OAuthService::UserInfo(const std::string& authorization) const {
  std::string token = authorization.rfind("Bearer ", 0) == 0 ? authorization.substr(7) : "";
  auto info = tokens_->CheckAccess(token);
  if (!info) {
    return {401, R"([{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}])"};
  }
  const std::string base = instance_url();
  nlohmann::json j = {{"sub", "https://login.salesforce.com/id/" + org_id_ + "/" + info->user_id},
                      {"user_id", info->user_id},
                      {"organization_id", org_id_},
                      {"preferred_username", info->username},
                      {"nickname", "integration"},
                      {"name", "Integration User"},
                      {"email", info->username},
                      {"email_verified", true},
                      {"zoneinfo", "America/Los_Angeles"},
                      {"locale", "en_US"},
                      {"language", "en_US"},
                      {"active", true},
                      {"user_type", "STANDARD"},
                      {"utcOffset", -28800000},
                      {"updated_at", "2024-01-01T00:00:00Z"},
                      {"urls",
                       {{"partner", base + "/services/Soap/u/{version}/" + org_id_},
                        {"rest", base + "/services/data/v{version}/"},
                        {"sobjects", base + "/services/data/v{version}/sobjects/"},
                        {"query", base + "/services/data/v{version}/query/"},
                        {"tooling_rest", base + "/services/data/v{version}/tooling/"},
                        {"profile", base + "/" + info->user_id}}}};
  return {200, j.dump()};
}

HttpReply OAuthService::Revoke(const std::multimap<std::string, std::string>& form) {
  if (tokens_->Revoke(FormValue(form, "token"))) return {200, ""};
  return Error("unsupported_token_type", "this token type is not supported");
}

}  // namespace forcepipe::emulator
