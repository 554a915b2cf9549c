#pragma once

// OAuthService: the Salesforce OAuth 2.0 token endpoint and userinfo, as pure request ->
// response logic (http_api.cc maps HTTP onto it).
//
// Flows (POST /services/oauth2/token, form-encoded):
//   urn:ietf:params:oauth:grant-type:jwt-bearer — RS256 assertion verified against the
//     configured certificate/public key; iss = client_id, sub = a known username,
//     aud in `audiences` (plus the emulator's own origin), exp a number or numeric string
//     in the future.
//   client_credentials (client_id/client_secret in the form or HTTP Basic), password
//   (client_id, client_secret, username, password), refresh_token (refresh_token, client_id).
// Success is Salesforce's shape: access_token, instance_url, id, token_type "Bearer",
// issued_at (epoch ms as a string), signature (base64 HMAC-SHA256 of id + issued_at keyed
// with the client secret), scope. Errors: HTTP 400 {"error", "error_description"}.
//
// Thread safety: safe for concurrent use.

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "emulator/token_store.h"

namespace forcepipe::emulator {

struct OAuthOptions {
  std::string client_id = "3MVG9emulatorConsumerKey";
  std::string client_secret = "emulator-consumer-secret";
  std::string username = "integration@acme.example.com";
  std::string password = "emulator-password";  // password + security token, as sent
  std::string user_id;                         // default: derived from the org
  // PEM certificate or public key that verifies jwt-bearer assertions. Empty: the emulator
  // generates an RSA key pair at start and reports the private key file (jwt_key_file).
  std::string jwt_cert_file;
  std::vector<std::string> audiences = {"https://login.salesforce.com",
                                        "https://test.salesforce.com"};
};

struct HttpReply {
  int status = 200;
  std::string body;  // JSON
};

class OAuthService {
 public:
  // `tokens` and `clock` must outlive the service.
  OAuthService(TokenStore* tokens, Clock* clock, OAuthOptions options, std::string org_id);

  // PEM of a certificate or a public key used to verify JWT assertions.
  Status SetJwtVerificationPem(const std::string& pem);
  void SetInstanceUrl(std::string url);
  std::string instance_url() const;
  const OAuthOptions& options() const { return options_; }
  std::string user_id() const { return user_id_; }

  // POST /services/oauth2/token. `authorization` is the Authorization header ("" if none).
  HttpReply Token(const std::multimap<std::string, std::string>& form,
                  const std::string& authorization);
  // GET /services/oauth2/userinfo with `authorization` "Bearer <token>".
  HttpReply UserInfo(const std::string& authorization) const;
  // POST /services/oauth2/revoke (form `token`).
  HttpReply Revoke(const std::multimap<std::string, std::string>& form);

  // Verifies an RS256 JWT assertion; returns the `sub` claim or an error reply.
  Result<std::string> VerifyJwt(const std::string& assertion, HttpReply* error) const;

 private:
  HttpReply Success(const std::string& username, bool with_refresh);
  static HttpReply Error(const std::string& error, const std::string& description);

  TokenStore* tokens_;
  Clock* clock_;
  const OAuthOptions options_;
  const std::string org_id_;
  std::string user_id_;
  mutable std::mutex mu_;
  std::string instance_url_;
  std::string jwt_pem_;
};

}  // namespace forcepipe::emulator
