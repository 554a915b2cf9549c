#include "emulator/token_store.h"

#include "emulator/util.h"

namespace forcepipe::emulator {

TokenStore::TokenStore(Clock* clock, std::string org_id, Duration lifetime)
    : clock_(clock), org_id_(std::move(org_id)), lifetime_(lifetime) {}

std::string TokenStore::IssueAccessToken(const std::string& username, const std::string& user_id) {
  std::string token = org_id_.substr(0, 15) + "!AQ" + RandomToken(93);
  TokenInfo info;
  info.username = username;
  info.user_id = user_id;
  info.issued_ms = NowMillis(*clock_);
  std::lock_guard g(mu_);
  info.expires_ms =
      info.issued_ms + std::chrono::duration_cast<std::chrono::milliseconds>(lifetime_).count();
  access_[token] = info;
  return token;
}

std::string TokenStore::IssueRefreshToken(const std::string& username, const std::string& user_id) {
  std::string token = "5Aep861" + RandomToken(80);
  TokenInfo info;
  info.username = username;
  info.user_id = user_id;
  info.issued_ms = NowMillis(*clock_);
  info.expires_ms = INT64_MAX;
  std::lock_guard g(mu_);
  refresh_[token] = info;
  return token;
}

std::optional<TokenInfo> TokenStore::CheckAccess(const std::string& token) const {
  const int64_t now = NowMillis(*clock_);
  std::lock_guard g(mu_);
  auto it = access_.find(token);
  if (it == access_.end() || it->second.expires_ms <= now) return std::nullopt;
  return it->second;
}

std::optional<TokenInfo> TokenStore::CheckRefresh(const std::string& token) const {
  std::lock_guard g(mu_);
  auto it = refresh_.find(token);
  if (it == refresh_.end()) return std::nullopt;
  return it->second;
}

bool TokenStore::Revoke(const std::string& token) {
  std::lock_guard g(mu_);
  return access_.erase(token) + refresh_.erase(token) > 0;
}

void TokenStore::ExpireAllAccessTokens() {
  const int64_t now = NowMillis(*clock_);
  std::lock_guard g(mu_);
  for (auto& [k, v] : access_) v.expires_ms = std::min(v.expires_ms, now);
}

void TokenStore::SetLifetime(Duration lifetime) {
  std::lock_guard g(mu_);
  lifetime_ = lifetime;
}

Duration TokenStore::lifetime() const {
  std::lock_guard g(mu_);
  return lifetime_;
}

}  // namespace forcepipe::emulator
