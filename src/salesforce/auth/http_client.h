#pragma once

// A small blocking HTTP(S) client over libcurl for the OAuth endpoints: one request per
// call, timeouts always set, TLS verification on unless explicitly disabled.
//
// Error messages name the method and URL but never the request body or headers (they
// carry secrets). URLs must not carry secrets either (callers put them in the body).
//
// Thread safety: an HttpClient is immutable after construction; Send() may be called from
// many threads at once (each call uses its own curl handle).

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace forcepipe::salesforce {

struct HttpClientOptions {
  Duration timeout = std::chrono::seconds(30);  // whole request
  Duration connect_timeout = std::chrono::seconds(10);
  std::string ca_file;                // "" = system CA bundle
  bool insecure_skip_verify = false;  // never in production
};

struct HttpRequest {
  std::string method = "GET";  // GET or POST
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // POST body
};

struct HttpResponse {
  long status = 0;
  std::string body;
};

class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options);

  // Performs the request. A response with any HTTP status is OK here (the caller maps
  // statuses); transport failures (DNS, connect, TLS, timeout) are kUnavailable.
  Result<HttpResponse> Send(const HttpRequest& request) const;

  const HttpClientOptions& options() const { return options_; }

 private:
  HttpClientOptions options_;
};

// application/x-www-form-urlencoded encoding of `fields` (RFC 3986 unreserved kept).
std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace forcepipe::salesforce
