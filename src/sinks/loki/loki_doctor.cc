// `forcepipe doctor` checks of the loki sink (Factory::doctor).

#include <httplib.h>

#include <regex>
#include <string>

#include "sinks/loki/factory.h"

namespace forcepipe {
namespace {

constexpr int kHttpTimeoutSeconds = 10;

// GET {url}/ready with the sink's own credentials and TLS settings.
void CheckLokiReady(const config::Node& n, DoctorCheck& c) {
  static const std::regex re(R"(^(https?://[^/]+)(/.*)?$)");
  std::string url = n.GetString("url");
  std::smatch m;
  if (!std::regex_match(url, m, re)) {
    c.detail = "url \"" + url + "\" is not http(s)://host[:port][/path]";
    return;
  }
  std::string path = m[2].matched ? m[2].str() : "";
  while (!path.empty() && path.back() == '/') path.pop_back();
  path += "/ready";
  httplib::Client http(m[1].str());
  http.set_connection_timeout(kHttpTimeoutSeconds);
  http.set_read_timeout(kHttpTimeoutSeconds);
  if (n.Has("username") && n.Has("password"))
    http.set_basic_auth(n.GetString("username"), n.GetString("password"));
  if (n.Has("bearer_token")) http.set_bearer_token_auth(n.GetString("bearer_token"));
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
  if (n.Has("ca_file")) http.set_ca_cert_path(n.GetString("ca_file"));
  if (n.GetBool("insecure_skip_verify")) http.enable_server_certificate_verification(false);
#endif
  httplib::Headers headers;
  if (n.Has("tenant")) headers.emplace("X-Scope-OrgID", n.GetString("tenant"));
  auto res = http.Get(path, headers);
  std::string where = "GET " + m[1].str() + path;
  if (!res) {
    c.detail = where + ": request failed (" + httplib::to_string(res.error()) + ")";
    return;
  }
  if (res->status != 200) {
    std::string body = res->body.substr(0, 200);
    while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
    c.detail =
        where + " -> HTTP " + std::to_string(res->status) + (body.empty() ? "" : ": " + body);
    if (res->status == 401 || res->status == 403)
      c.detail += " (check username/password/bearer_token)";
    return;
  }
  c.ok = true;
  c.detail = where + " -> 200";
}

}  // namespace

SinkFactory LokiSinkFactoryWithChecks() {
  SinkFactory f = LokiSinkFactory();
  f.doctor = [](const config::Node& n, const FactoryContext&, const std::string& prefix,
                const DoctorRun& run) {
    run(prefix + "ready", [&](DoctorCheck& c) { CheckLokiReady(n, c); });
  };
  return f;
}

}  // namespace forcepipe
