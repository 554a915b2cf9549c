#include "sinks/loki/loki_http.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <optional>

namespace forcepipe::loki {
namespace {

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t OnBody(char* data, size_t size, size_t nmemb, void* user) {
  auto* r = static_cast<HttpResponse*>(user);
  size_t n = size * nmemb;
  if (r->body.size() < HttpClient::kMaxBody) {
    r->body.append(data, std::min(n, HttpClient::kMaxBody - r->body.size()));
  }
  return n;
}

size_t OnHeader(char* data, size_t size, size_t nmemb, void* user) {
  auto* r = static_cast<HttpResponse*>(user);
  size_t n = size * nmemb;
  std::string_view line(data, n);
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size()) {
    bool match = true;
    for (size_t i = 0; i < kName.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(line[i])) != kName[i]) {
        match = false;
        break;
      }
    }
    if (match) {
      std::string_view v = line.substr(kName.size());
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
      while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) {
        v.remove_suffix(1);
      }
      r->retry_after.assign(v);
    }
  }
  // A new status line (e.g. after 100 Continue) resets what we saw.
  if (line.rfind("HTTP/", 0) == 0) r->retry_after.clear();
  return n;
}

}  // namespace

HttpClient::HttpClient(HttpOptions options) : options_(std::move(options)) {
  GlobalInit();
  curl_ = curl_easy_init();
  if (!options_.bearer_token.empty())
    auth_header_ = "Authorization: Bearer " + options_.bearer_token;
}

HttpClient::~HttpClient() {
  if (curl_) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

HttpResponse HttpClient::Post(const std::string& url, std::string_view body,
                              std::string_view content_type, std::string_view content_encoding,
                              std::string_view tenant) {
  return Perform(url, true, body, content_type, content_encoding, tenant);
}

HttpResponse HttpClient::Get(const std::string& url, std::string_view tenant) {
  return Perform(url, false, {}, {}, {}, tenant);
}

HttpResponse HttpClient::Perform(const std::string& url, bool post, std::string_view body,
                                 std::string_view content_type, std::string_view content_encoding,
                                 std::string_view tenant) {
  HttpResponse r;
  CURL* c = static_cast<CURL*>(curl_);
  if (!c) {
    r.error = "curl_easy_init failed";
    return r;
  }
  curl_easy_reset(c);  // keeps the connection cache
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  if (post) {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  } else {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  }
  curl_easy_setopt(
      c, CURLOPT_TIMEOUT_MS,
      static_cast<long>(
          std::chrono::duration_cast<std::chrono::milliseconds>(options_.timeout).count()));
  curl_easy_setopt(
      c, CURLOPT_CONNECTTIMEOUT_MS,
      static_cast<long>(
          std::chrono::duration_cast<std::chrono::milliseconds>(options_.connect_timeout).count()));
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, options_.insecure_skip_verify ? 0L : 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, options_.insecure_skip_verify ? 0L : 2L);
  if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
  if (!options_.username.empty()) {
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(c, CURLOPT_USERNAME, options_.username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, options_.password.c_str());
  }
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);

  curl_slist* headers = nullptr;
  std::string line;
  auto add = [&](std::string_view name, std::string_view value) {
    line.assign(name);
    line.append(": ");
    line.append(value);
    headers = curl_slist_append(headers, line.c_str());
  };
  if (!content_type.empty()) add("Content-Type", content_type);
  if (!content_encoding.empty()) add("Content-Encoding", content_encoding);
  if (!tenant.empty()) add("X-Scope-OrgID", tenant);
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  if (!auth_header_.empty()) headers = curl_slist_append(headers, auth_header_.c_str());
  for (const auto& [name, value] : options_.headers) add(name, value);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);

  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
    r.status = 0;
    r.error = curl_easy_strerror(rc);
    if (errbuf[0]) r.error += std::string(" (") + errbuf + ")";
    return r;
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);  // errbuf goes out of scope
  return r;
}

std::optional<Duration> ParseRetryAfter(std::string_view value, int64_t now_unix_seconds,
                                        Duration cap) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  int64_t seconds = 0;
  if (std::all_of(value.begin(), value.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
    if (value.size() > 12) return cap;  // absurdly large: clamp
    for (char ch : value) seconds = seconds * 10 + (ch - '0');
  } else {
    std::string copy(value);
    time_t t = curl_getdate(copy.c_str(), nullptr);
    if (t == -1) return std::nullopt;
    // A date far from `now` (either way) must not overflow: clamp.
    if (__builtin_sub_overflow(int64_t(t), now_unix_seconds, &seconds)) {
      return int64_t(t) > now_unix_seconds ? cap : Duration::zero();
    }
    seconds = std::max<int64_t>(0, seconds);
  }
  // Compared in seconds: converting a large count to nanoseconds would overflow.
  if (seconds >= std::chrono::duration_cast<std::chrono::seconds>(cap).count()) return cap;
  return std::chrono::seconds(seconds);
}

}  // namespace forcepipe::loki
