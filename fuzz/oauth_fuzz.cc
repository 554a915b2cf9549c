// libFuzzer target for the OAuth token endpoint's answers (src/salesforce/auth): the
// body of a 2xx token response and of an error answer come from a server. Neither
// parser may crash; an accepted response has a token, an instance URL without a
// trailing slash and 15/18-char ids; no error message quotes a registered secret
// or grows without bound.

#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/log.h"
#include "salesforce/auth/token_provider.h"

namespace {

constexpr char kSecret[] = "fuzz-client-secret-9f8e7d";

bool Leaks(const std::string& message) {
  return message.find(kSecret) != std::string::npos || message.size() > 4096;
}

bool IsId(const std::string& id) { return id.size() == 15 || id.size() == 18; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool registered = [] {
    forcepipe::log::RegisterSecret(kSecret);
    return true;
  }();
  (void)registered;
  using forcepipe::salesforce::MapOAuthError;
  using forcepipe::salesforce::ParseTokenResponse;
  const std::string body(reinterpret_cast<const char*>(data), size);

  auto r = ParseTokenResponse("oauth fuzz", body, 1'700'000'000'000);
  if (r.ok()) {
    const auto& t = r->token;
    if (t.token.empty() || t.instance_url.empty() || t.instance_url.back() == '/') std::abort();
    if (!IsId(t.org_id) || !IsId(t.user_id)) std::abort();
  } else if (Leaks(r.status().message())) {
    std::abort();
  }

  for (long status : {400L, 401L, 403L, 429L, 503L}) {
    forcepipe::Status s = MapOAuthError("oauth fuzz", status, body);
    if (s.ok() || Leaks(s.message())) std::abort();
    if ((status == 429 || status == 503) && s.code() != forcepipe::StatusCode::kUnavailable) {
      std::abort();
    }
  }
  return 0;
}
