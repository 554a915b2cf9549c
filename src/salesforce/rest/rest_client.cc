#include "salesforce/rest/rest_client.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "core/log.h"
#include "salesforce/auth/http_client.h"

namespace forcepipe::salesforce {

namespace {

using json = nlohmann::json;

constexpr std::string_view kEventStreamSuffix = "EventStream";

// Removes every occurrence of `secret` from `text` (belt and braces on top of log::Redact,
// which only knows secrets someone registered).
std::string Scrub(std::string text, const std::string& secret) {
  if (secret.size() >= 4) {
    for (size_t pos = text.find(secret); pos != std::string::npos;
         pos = text.find(secret, pos + 3)) {
      text.replace(pos, secret.size(), "***");
    }
  }
  return log::Redact(text);
}

// A printable, bounded excerpt of a body for error messages.
std::string Excerpt(std::string_view body) {
  constexpr size_t kMax = 200;
  std::string out;
  for (char c : body.substr(0, kMax)) {
    out.push_back(std::isprint(static_cast<unsigned char>(c)) ? c : ' ');
  }
  if (body.size() > kMax) out += "...";
  return out;
}

Result<std::string> NormalizeVersion(const std::string& v) {
  std::string s = v.empty() || v[0] != 'v' ? "v" + v : v;
  size_t dot = s.find('.');
  auto digits = [](std::string_view d) {
    return !d.empty() &&
           std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (dot == std::string::npos || !digits(std::string_view(s).substr(1, dot - 1)) ||
      !digits(std::string_view(s).substr(dot + 1))) {
    return Status::InvalidArgument("salesforce REST: api_version must look like v62.0, got '" + v +
                                   "'");
  }
  return s;
}

std::string TrimSlash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

// Maps a non-2xx answer; `what` is "salesforce REST GET <path>".
Status MapError(const std::string& what, long status, const std::string& body,
                const std::string& token, const std::string& suffix) {
  std::string code, message;
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  const json* first = nullptr;
  if (j.is_array() && !j.empty() && j[0].is_object()) {
    first = &j[0];
  } else if (j.is_object()) {
    first = &j;  // some gateways answer with a single object
  }
  if (first) {
    auto str = [&](const char* k) {
      auto it = first->find(k);
      return it != first->end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    code = str("errorCode");
    message = str("message");
    if (code.empty()) code = str("error");
    if (message.empty()) message = str("error_description");
  }
  std::string msg = what + ": HTTP " + std::to_string(status);
  if (!code.empty()) {
    msg += ": " + code;
    if (!message.empty()) msg += ": " + message;
  } else if (!body.empty()) {
    msg += ": " + Excerpt(body);
  }
  msg += suffix;
  msg = Scrub(std::move(msg), token);
  if (status == 401) return Status::Unauthenticated(msg);
  if (status == 403 && code == "REQUEST_LIMIT_EXCEEDED") return Status::ResourceExhausted(msg);
  if (status == 403) return Status::PermissionDenied(msg);
  if (status == 404) return Status::NotFound(msg);
  if (status == 429 || status >= 500) return Status::Unavailable(msg);
  if (status >= 400) return Status::InvalidArgument(msg);
  // 1xx/3xx: redirects are not followed; treat as a transient misconfiguration.
  return Status::Unavailable(msg);
}

}  // namespace

Result<RestResponse> RestGet(const RestTarget& target, TokenProvider& tokens,
                             std::string_view path) {
  if (target.timeout <= Duration::zero()) {
    return Status::InvalidArgument("salesforce REST: timeout must be > 0");
  }
  FP_ASSIGN_OR_RETURN(std::string version, NormalizeVersion(target.api_version));
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  const std::string url_path = "/services/data/" + version + "/" + std::string(path);
  const std::string what = "salesforce REST GET " + url_path;

  HttpClientOptions ho;
  ho.timeout = target.timeout;
  ho.connect_timeout = std::min<Duration>(target.timeout, std::chrono::seconds(10));
  ho.ca_file = target.ca_file;
  ho.insecure_skip_verify = target.insecure_skip_verify;
  HttpClient http(std::move(ho));

  Result<AccessToken> got = tokens.Get();
  if (!got.ok()) return got.status().WithContext(what + ": access token");
  AccessToken token = *std::move(got);
  for (int attempt = 0;; ++attempt) {
    std::string base =
        TrimSlash(target.instance_url.empty() ? token.instance_url : target.instance_url);
    if (base.empty()) {
      return Status::InvalidArgument(what +
                                     ": no instance_url (neither in the target nor in "
                                     "the access token)");
    }
    HttpRequest req;
    req.method = "GET";
    req.url = base + url_path;
    req.headers = {{"Authorization", "Bearer " + token.token}, {"Accept", "application/json"}};
    Result<HttpResponse> sent = http.Send(req);
    if (!sent.ok()) {
      // Transport failure; HttpClient's message names the method and URL, never headers.
      return Status(sent.status().code(),
                    Scrub(what + ": " + sent.status().message(), token.token));
    }
    HttpResponse resp = *std::move(sent);
    if (resp.status >= 200 && resp.status < 300)
      return RestResponse{resp.status, std::move(resp.body)};
    if (resp.status == 401 && attempt == 0) {
      Result<AccessToken> fresh = tokens.Refresh(token.token);
      if (!fresh.ok()) {
        return MapError(
            what, resp.status, resp.body, token.token,
            " (re-minting the token failed: " + Scrub(fresh.status().message(), token.token) + ")");
      }
      token = *std::move(fresh);
      continue;
    }
    return MapError(what, resp.status, resp.body, token.token,
                    resp.status == 401 ? " (after re-minting the token once)" : "");
  }
}

Result<std::vector<SObjectSummary>> DescribeGlobal(const RestTarget& target,
                                                   TokenProvider& tokens) {
  FP_ASSIGN_OR_RETURN(RestResponse resp, RestGet(target, tokens, "sobjects/"));
  return ParseDescribeGlobal(resp.body);
}

Result<std::vector<SObjectSummary>> ParseDescribeGlobal(std::string_view body) {
  const std::string what = "salesforce REST describeGlobal: malformed response";
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return Status::Unavailable(log::Redact(what + ": not JSON: " + Excerpt(body)));
  }
  if (!j.is_object()) return Status::Unavailable(what + ": not a JSON object");
  auto list = j.find("sobjects");
  if (list == j.end() || !list->is_array()) {
    return Status::Unavailable(what + ": no \"sobjects\" array");
  }
  std::vector<SObjectSummary> out;
  out.reserve(list->size());
  for (size_t i = 0; i < list->size(); ++i) {
    const json& e = (*list)[i];
    auto name = e.is_object() ? e.find("name") : e.end();
    if (!e.is_object() || name == e.end() || !name->is_string() ||
        name->get_ref<const std::string&>().empty()) {
      return Status::Unavailable(what + ": sobjects[" + std::to_string(i) +
                                 "] has no string \"name\"");
    }
    SObjectSummary s;
    s.name = name->get<std::string>();
    auto str = [&](const char* k) {
      auto it = e.find(k);
      return it != e.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    auto flag = [&](const char* k) {
      auto it = e.find(k);
      return it != e.end() && it->is_boolean() && it->get<bool>();
    };
    s.label = str("label");
    s.key_prefix = str("keyPrefix");
    s.custom = flag("custom");
    s.queryable = flag("queryable");
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<std::string> EventStreamTopics(const std::vector<SObjectSummary>& sobjects) {
  std::vector<std::string> out;
  for (const auto& s : sobjects) {
    if (s.name.size() > kEventStreamSuffix.size() &&
        std::string_view(s.name).substr(s.name.size() - kEventStreamSuffix.size()) ==
            kEventStreamSuffix) {
      out.push_back("/event/" + s.name);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<std::vector<std::string>> DiscoverEventStreamTopics(const RestTarget& target,
                                                           TokenProvider& tokens) {
  FP_ASSIGN_OR_RETURN(auto sobjects, DescribeGlobal(target, tokens));
  return EventStreamTopics(sobjects);
}

}  // namespace forcepipe::salesforce
