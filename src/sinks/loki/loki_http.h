#pragma once

// A minimal HTTP POST client over libcurl for Loki pushes: one easy handle per
// client, so connections are reused between requests (keep-alive).
//
// Thread safety: one HttpClient per thread at a time (the sink keeps a pool).
// Secrets (password, bearer token, header values) are never logged or put in
// error messages.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace forcepipe::loki {

struct HttpOptions {
  Duration timeout = std::chrono::seconds(10);
  Duration connect_timeout = std::chrono::seconds(5);
  std::string ca_file;                // "" = system CAs
  bool insecure_skip_verify = false;  // TLS verification is on unless set
  std::string username;               // Basic auth when set
  std::string password;
  std::string bearer_token;                    // Authorization: Bearer, when set
  std::map<std::string, std::string> headers;  // extra headers
};

struct HttpResponse {
  long status = 0;          // 0 when no response (transport error)
  std::string body;         // first kMaxBody bytes
  std::string retry_after;  // Retry-After header value, if any
  std::string error;        // transport error (status == 0)
};

class HttpClient {
 public:
  // Bodies beyond this are cut (a 400 naming many entries stays whole).
  static constexpr size_t kMaxBody = 256 * 1024;

  explicit HttpClient(HttpOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // POSTs `body` to `url`. `tenant` non-empty adds X-Scope-OrgID.
  // `content_encoding` non-empty adds Content-Encoding.
  HttpResponse Post(const std::string& url, std::string_view body, std::string_view content_type,
                    std::string_view content_encoding, std::string_view tenant);
  // GETs `url` (readiness, build info, effective config), with the same auth
  // and extra headers as Post.
  HttpResponse Get(const std::string& url, std::string_view tenant);

 private:
  HttpResponse Perform(const std::string& url, bool post, std::string_view body,
                       std::string_view content_type, std::string_view content_encoding,
                       std::string_view tenant);
  HttpOptions options_;
  void* curl_ = nullptr;  // CURL*
  std::string auth_header_;
};

// Parses a Retry-After value: delta-seconds or an HTTP-date (relative to
// `now_unix_seconds`). Returns the wait clamped to [0, cap], or nullopt when
// absent or unparsable.
std::optional<Duration> ParseRetryAfter(std::string_view value, int64_t now_unix_seconds,
                                        Duration cap);

}  // namespace forcepipe::loki
