#include "doctor/doctor.h"

#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "config/registry.h"
#include "core/log.h"

#ifdef FORCEPIPE_WITH_PUBSUB
#include "salesforce/auth/auth_config.h"
#include "sources/pubsub/pubsub_client.h"
#include "sources/pubsub/pubsub_source.h"
#endif

namespace forcepipe::doctor {
namespace {

constexpr auto kRpcDeadline = std::chrono::seconds(15);
constexpr int kHttpTimeoutSeconds = 10;

FactoryContext ContextFor(const app::LoadedConfig& c, const std::string& name) {
  FactoryContext ctx;
  ctx.name = name;
  ctx.data_dir = c.top.GetString("data_dir");
  return ctx;
}

class Recorder {
 public:
  explicit Recorder(Report* r) : report_(r) {}
  // Runs `f` (which sets ok/detail) and records it with its duration.
  void Run(const std::string& name, const std::function<void(Check&)>& f) {
    Check c;
    c.name = name;
    auto t0 = std::chrono::steady_clock::now();
    f(c);
    c.millis =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    c.detail = log::Redact(c.detail);
    report_->checks.push_back(std::move(c));
  }
  void Fail(const std::string& name, const std::string& why) {
    Run(name, [&](Check& c) {
      c.ok = false;
      c.detail = why;
    });
  }

 private:
  Report* report_;
};

#ifdef FORCEPIPE_WITH_PUBSUB
void CheckPubSub(const app::LoadedConfig& config, const app::LoadedConfig::Instance<Source>& s,
                 Recorder& rec) {
  const std::string prefix = "source " + s.name + ": ";
  auto opts = pubsub::OptionsFromNode(s.node, ContextFor(config, s.name));
  if (!opts.ok()) {
    rec.Fail(prefix + "options", opts.status().ToString());
    return;
  }
  std::unique_ptr<salesforce::TokenProvider> tokens;
  Result<salesforce::AccessToken> token = Status::Internal("not attempted");
  rec.Run(prefix + "credentials", [&](Check& c) {
    auto t = salesforce::MakeTokenProvider(s.node.GetSection("auth"));
    if (!t.ok()) {
      c.detail = t.status().WithContext(s.path + ".auth").ToString();
      return;
    }
    tokens = std::move(t).value();
    token = tokens->Get();
    if (!token.ok()) {
      c.detail = std::string(tokens->flow()) + " flow: " + token.status().ToString();
      return;
    }
    c.ok = true;
    c.detail = std::string(tokens->flow()) + " flow: token minted for org " + token->org_id +
               ", instance " + token->instance_url;
  });
  pubsub::PubSubClient client(opts->client, tokens.get());
  Status connected = tokens ? client.Connect() : Status::Ok();
  for (const auto& topic : opts->topics) {
    rec.Run(prefix + "topic " + topic, [&](Check& c) {
      if (!token.ok()) {
        c.detail = "not checked: no access token (see credentials)";
        return;
      }
      if (!connected.ok()) {
        c.detail = connected.ToString();
        return;
      }
      // The client's own GetTopic has no deadline; doctor must not hang.
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + kRpcDeadline);
      pubsub::PubSubClient::Authorize(&ctx, *token);
      eventbus::v1::TopicRequest req;
      req.set_topic_name(topic);
      eventbus::v1::TopicInfo info;
      Status st = pubsub::FromGrpc(client.stub().GetTopic(&ctx, req, &info), ctx, "GetTopic");
      if (!st.ok()) {
        c.detail = opts->client.endpoint + ": " + st.ToString();
        return;
      }
      if (!info.can_subscribe()) {
        c.detail = "the user may not subscribe to it (can_subscribe=false)";
        return;
      }
      c.ok = true;
      c.detail = "subscribable; schema " + info.schema_id();
    });
  }
}
#endif

// GET {url}/ready with the sink's own credentials and TLS settings.
void CheckLokiReady(const config::Node& n, Check& c) {
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

void CheckSink(const app::LoadedConfig& config, Recorder& rec) {
  const auto& s = config.sink;
  const std::string kind = s.factory ? s.factory->kind : "?";
  const std::string name = "sink " + s.name + " (" + kind + ")";
  std::unique_ptr<Sink> sink;
  rec.Run(name + ": start", [&](Check& c) {
    auto made = s.factory->create(s.node, ContextFor(config, s.name));
    if (!made.ok()) {
      c.detail = made.status().ToString();
      return;
    }
    sink = std::move(made).value();
    Status st = sink->Start();
    if (!st.ok()) {
      c.detail = st.ToString();
      sink.reset();
      return;
    }
    c.ok = true;
    c.detail = kind == "sql"    ? "connected; schema ready"
               : kind == "loki" ? "client ready"
                                : "started";
  });
  if (sink) sink->Stop();
  if (kind == "loki") rec.Run(name + ": ready", [&](Check& c) { CheckLokiReady(s.node, c); });
}

void CheckCheckpoints(const app::LoadedConfig& config, Recorder& rec) {
  std::string name = config.has_checkpoint
                         ? "checkpoint store (" +
                               (config.checkpoint.factory ? config.checkpoint.factory->kind : "?") +
                               ")"
                         : "checkpoint store (in sink " + config.sink.name + ")";
  rec.Run(name, [&](Check& c) {
    auto store = app::OpenCheckpointStore(config);
    if (!store.ok()) {
      c.detail = store.status().ToString();
      return;
    }
    auto all = (*store)->LoadAll();
    if (!all.ok()) {
      c.detail = "LoadAll: " + all.status().ToString();
      return;
    }
    c.ok = true;
    c.detail = std::to_string(all->size()) + " stored position(s)";
  });
}

}  // namespace

bool Report::ok() const {
  for (const auto& c : checks) {
    if (!c.ok) return false;
  }
  return !checks.empty();
}

Report Diagnose(const app::LoadedConfig& config) {
  Report report;
  Recorder rec(&report);
  rec.Run("config", [&](Check& c) {
    c.ok = true;
    c.detail = (config.file.empty() ? std::string("config") : config.file) + ": " +
               std::to_string(config.sources.size()) + " source(s), sink " + config.sink.name +
               " (" + (config.sink.factory ? config.sink.factory->kind : "?") + ")";
  });
  for (const auto& s : config.sources) {
    const std::string kind = s.factory ? s.factory->kind : "?";
#ifdef FORCEPIPE_WITH_PUBSUB
    if (kind == "pubsub") {
      CheckPubSub(config, s, rec);
      continue;
    }
#endif
    rec.Run("source " + s.name + " (" + kind + ")", [&](Check& c) {
      auto made = s.factory->create(s.node, ContextFor(config, s.name));
      c.ok = made.ok();
      c.detail =
          made.ok() ? "constructed (this kind has no remote to check)" : made.status().ToString();
    });
  }
  CheckSink(config, rec);
  CheckCheckpoints(config, rec);
  return report;
}

void PrintReport(const Report& report, bool json, std::ostream& out) {
  if (json) {
    nlohmann::json j;
    j["ok"] = report.ok();
    j["checks"] = nlohmann::json::array();
    for (const auto& c : report.checks) {
      j["checks"].push_back(
          {{"name", c.name}, {"ok", c.ok}, {"detail", c.detail}, {"ms", c.millis}});
    }
    out << j.dump(2) << "\n";
    return;
  }
  size_t width = 5;
  for (const auto& c : report.checks) width = std::max(width, c.name.size());
  auto pad = [](const std::string& s, size_t w) {
    return s + std::string(w > s.size() ? w - s.size() : 0, ' ');
  };
  out << pad("CHECK", width) << "  RESULT  DETAIL\n";
  int failed = 0;
  for (const auto& c : report.checks) {
    if (!c.ok) ++failed;
    out << pad(c.name, width) << "  " << (c.ok ? "pass  " : "FAIL  ") << "  " << c.detail << "\n";
  }
  out << "\n"
      << (failed ? std::to_string(failed) + " of " + std::to_string(report.checks.size()) +
                       " checks failed"
                 : "all " + std::to_string(report.checks.size()) + " checks passed")
      << "\n";
}

int RunDoctor(const std::string& config_file, bool json, std::ostream& out) {
  Registry registry;
  if (Status st = app::RegisterBuiltins(registry); !st.ok()) {
    Report r;
    r.checks.push_back({"config", false, st.ToString(), 0});
    PrintReport(r, json, out);
    return 2;
  }
  auto loaded = app::LoadConfigFile(config_file, registry);
  if (!loaded.ok()) {
    Report r;
    r.checks.push_back({"config", false, log::Redact(loaded.status().ToString()), 0});
    PrintReport(r, json, out);
    return 2;
  }
  Report report = Diagnose(**loaded);
  PrintReport(report, json, out);
  return report.ok() ? 0 : 1;
}

}  // namespace forcepipe::doctor
