#pragma once

// Salesforce OAuth 2.0 access tokens for the Pub/Sub and REST clients.
//
// A TokenProvider hands out a cached access token and re-mints it
//   - before an assumed lifetime runs out (Salesforce's token response has no
//     expires_in: the session timeout is an org setting; `token_ttl`, default 1h, is
//     assumed and the token is re-minted at 90% of it), and
//   - when a caller reports that the server rejected it (Refresh(rejected_token) after
//     HTTP 401 / gRPC UNAUTHENTICATED).
// Minting is single-flight: however many threads call Get()/Refresh() at once, at most
// one token request is in flight, and every waiter receives its result (token or error).
// When a proactive re-mint (past 90%) fails, Get() keeps returning the current token until
// 100% of its assumed lifetime, retrying at most every 5 s; a token passed to Refresh() is
// never returned again.
//
// Re-mints after rejections back off: the first rejection of a token re-mints at once, but
// when the token that replaced it is rejected too (it served less than
// `remint_max_backoff`), the next mint waits remint_initial_backoff * 2^(n-2) after the
// previous one (n rejections in a row; capped at remint_max_backoff; equal jitter: half
// fixed, half random). Until then Refresh() and a tokenless Get() return kUnavailable
// ("next re-mint in ..."), which callers retry with their own backoff. A token that served
// at least remint_max_backoff before its rejection resets the count (it worked).
//
// Flows: jwt-bearer (RS256 assertion), client_credentials, password (password + security
// token), refresh_token, and a static access token given in config (never re-minted).
//
// Errors: a 4xx answer from the token endpoint is kUnauthenticated (invalid_grant,
// invalid_client, invalid_client_id, ...) or kInvalidArgument (invalid_request,
// unsupported_grant_type), naming the flow and Salesforce's error_description; 5xx, 429
// and transport failures are kUnavailable (retry with backoff). No secret (client
// secret, password, key, tokens, assertion) appears in any Status message or log line:
// all of them are registered with log::RegisterSecret and messages are passed through
// log::Redact.
//
// Thread safety: all methods are safe for concurrent use.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace forcepipe::salesforce {

struct AccessToken {
  std::string token;         // the bearer token / session id
  std::string instance_url;  // e.g. https://acme.my.salesforce.com (no trailing slash)
  std::string org_id;        // 18-char tenant id, from the `id` URL .../id/<orgId>/<userId>
  std::string user_id;       // 18-char user id ("" for a static token without userinfo)
  int64_t issued_at_ms = 0;  // Salesforce's issued_at (epoch ms); mint time if absent
};

struct UserInfo {
  std::string user_id;
  std::string organization_id;
  std::string preferred_username;
  std::string email;
  std::string name;
  std::string raw_json;  // the whole response body (no secrets in it)
};

class TokenProvider {
 public:
  virtual ~TokenProvider() = default;

  // The cached token, minting one first when there is none or it is past 90% of its
  // assumed lifetime.
  virtual Result<AccessToken> Get() = 0;

  // Call after the server rejected `rejected_token`. Mints a new token unless the cached
  // one already differs from `rejected_token` (another thread refreshed it), in which case
  // that one is returned without a request. A static token cannot be re-minted:
  // kUnauthenticated.
  virtual Result<AccessToken> Refresh(const std::string& rejected_token) = 0;

  // GET <instance_url>/services/oauth2/userinfo with the current token (refreshing once
  // on 401).
  virtual Result<UserInfo> FetchUserInfo() = 0;

  // "jwt", "client_credentials", "password", "refresh_token" or "static".
  virtual std::string_view flow() const = 0;

  // Token requests actually sent (for metrics and tests).
  virtual uint64_t mint_count() const = 0;
};

enum class AuthFlow { kJwt, kClientCredentials, kPassword, kRefreshToken, kStatic };

std::string_view AuthFlowName(AuthFlow flow);

struct AuthConfig {
  AuthFlow flow = AuthFlow::kJwt;
  // Token endpoint base: https://login.salesforce.com, https://test.salesforce.com or a My
  // Domain URL. The token request goes to <login_url>/services/oauth2/token.
  std::string login_url = "https://login.salesforce.com";
  // jwt: the `aud` claim; "" = login_url.
  std::string audience;
  std::string client_id;
  std::string client_secret;  // secret
  std::string username;
  std::string password;         // secret
  std::string security_token;   // secret; appended to password
  std::string private_key_pem;  // secret; jwt
  std::string refresh_token;    // secret
  std::string access_token;     // secret; static
  std::string instance_url;     // static (required); others: from the token response
  std::string org_id;           // static (required, 15 or 18 chars)
  Duration token_ttl = std::chrono::hours(1);
  Duration jwt_lifetime = std::chrono::seconds(180);  // exp = now + this
  std::string ca_file;
  bool insecure_skip_verify = false;
  Duration timeout = std::chrono::seconds(30);
  // Backoff of re-mints after rejections in a row (see TokenProvider).
  Duration remint_initial_backoff = std::chrono::seconds(1);
  Duration remint_max_backoff = std::chrono::seconds(60);
  const Clock* clock = Clock::Real();  // not owned
};

// Validates `config` (the fields its flow needs, the key for jwt) and registers its
// secrets for redaction.
Result<std::unique_ptr<TokenProvider>> NewTokenProvider(AuthConfig config);

// The Pub/Sub API's per-RPC metadata for `token`: accesstoken, instanceurl, tenantid
// (lower-case names, as gRPC requires).
std::vector<std::pair<std::string, std::string>> PubSubMetadata(const AccessToken& token);

// What a successful (2xx) OAuth token response carries.
struct TokenResponse {
  AccessToken token;
  std::string refresh_token;  // "" unless the server rotated it
};

// Parses the JSON body of a 2xx answer of /services/oauth2/token (input from the
// network: any bytes). Needs access_token, instance_url (trailing slashes cut) and
// an `id` identity URL carrying org and user ids; issued_at (epoch ms digits) is
// used when present, else `now_ms`. Errors are Unavailable, prefixed by `what`,
// and quote nothing but a bounded, redacted excerpt of the identity URL. Does not
// register the token for redaction: the caller does, before logging anything.
Result<TokenResponse> ParseTokenResponse(std::string_view what, const std::string& body,
                                         int64_t now_ms);

// Maps a non-2xx answer of an OAuth endpoint (token, userinfo) to a Status: 429
// and 5xx are Unavailable; invalid_request/unsupported_* InvalidArgument; a bare
// 403 PermissionDenied; anything else Unauthenticated. The message carries the
// OAuth error and description, or a bounded excerpt of the body, redacted.
Status MapOAuthError(std::string_view what, long status, const std::string& body);

// Parses "https://login.salesforce.com/id/00D.../005..." into org and user ids.
Status ParseIdentityUrl(std::string_view id_url, std::string* org_id, std::string* user_id);

}  // namespace forcepipe::salesforce
