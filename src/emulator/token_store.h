#pragma once

// TokenStore: the emulator's OAuth access and refresh tokens.
//
// Access tokens look like Salesforce's (`<orgId15>!AQ<random>`), expire after the
// configured lifetime on the injected clock, and can be revoked one by one or all at
// once (admin fault "expire all tokens"). Token values are secrets: never log them.
//
// Thread safety: all methods are safe for concurrent use.

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "core/clock.h"

namespace forcepipe::emulator {

struct TokenInfo {
  std::string username;
  std::string user_id;
  int64_t issued_ms = 0;
  int64_t expires_ms = 0;
};

class TokenStore {
 public:
  // `clock` must outlive the store.
  TokenStore(Clock* clock, std::string org_id, Duration lifetime);

  // Mints a new access token for `username`/`user_id`.
  std::string IssueAccessToken(const std::string& username, const std::string& user_id);
  // Mints a refresh token (never expires unless revoked).
  std::string IssueRefreshToken(const std::string& username, const std::string& user_id);

  // The token's info when it is a live (unexpired, unrevoked) access token.
  std::optional<TokenInfo> CheckAccess(const std::string& token) const;
  std::optional<TokenInfo> CheckRefresh(const std::string& token) const;

  // Revokes an access or refresh token. Returns false when it was unknown.
  bool Revoke(const std::string& token);
  // Expires every access token issued so far (refresh tokens stay valid).
  void ExpireAllAccessTokens();

  void SetLifetime(Duration lifetime);
  Duration lifetime() const;

 private:
  Clock* clock_;
  std::string org_id_;
  mutable std::mutex mu_;
  Duration lifetime_;
  std::map<std::string, TokenInfo> access_;
  std::map<std::string, TokenInfo> refresh_;
};

}  // namespace forcepipe::emulator
