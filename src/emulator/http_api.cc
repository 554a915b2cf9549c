#include "emulator/http_api.h"

#include <httplib.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "emulator/emulator.h"
#include "emulator/sobjects.h"

namespace forcepipe::emulator {

namespace {

using json = nlohmann::json;

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string UrlDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && HexVal(s[i + 1]) >= 0 && HexVal(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexVal(s[i + 1]) * 16 + HexVal(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// Salesforce REST error bodies ([{"message","errorCode"}]).
constexpr char kRestInvalidSession[] =
    R"([{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}])";
constexpr char kRestNotFound[] =
    R"([{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}])";
// The org's daily API request allocation reported in Sforce-Limit-Info.
constexpr uint64_t kDailyApiLimit = 100000;

void Reply(httplib::Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_content(body, "application/json;charset=UTF-8");
}

void ReplyJson(httplib::Response& res, int status, const json& j) { Reply(res, status, j.dump()); }

void ReplyStatus(httplib::Response& res, const Status& st) {
  int code = 500;
  switch (st.code()) {
    case StatusCode::kInvalidArgument:
      code = 400;
      break;
    case StatusCode::kNotFound:
      code = 404;
      break;
    case StatusCode::kAlreadyExists:
      code = 409;
      break;
    case StatusCode::kFailedPrecondition:
      code = 409;
      break;
    default:
      break;
  }
  ReplyJson(res, code,
            {{"error", std::string(StatusCodeName(st.code()))}, {"message", st.message()}});
}

bool IsLoopback(const std::string& addr) {
  return addr.rfind("127.", 0) == 0 || addr == "::1" || addr.rfind("::ffff:127.", 0) == 0;
}

// Parses a JSON body ({} when empty); replies 400 and returns nullopt on bad JSON.
std::optional<json> Body(const httplib::Request& req, httplib::Response& res) {
  if (req.body.empty()) return json::object();
  try {
    json j = json::parse(req.body);
    if (!j.is_object()) throw std::runtime_error("body must be a JSON object");
    return j;
  } catch (const std::exception& e) {
    ReplyJson(res, 400, {{"error", "InvalidArgument"}, {"message", e.what()}});
    return std::nullopt;
  }
}

std::optional<grpc::StatusCode> GrpcCodeFromName(const std::string& n) {
  static const std::pair<const char*, grpc::StatusCode> k[] = {
      {"CANCELLED", grpc::StatusCode::CANCELLED},
      {"UNKNOWN", grpc::StatusCode::UNKNOWN},
      {"INVALID_ARGUMENT", grpc::StatusCode::INVALID_ARGUMENT},
      {"DEADLINE_EXCEEDED", grpc::StatusCode::DEADLINE_EXCEEDED},
      {"NOT_FOUND", grpc::StatusCode::NOT_FOUND},
      {"ALREADY_EXISTS", grpc::StatusCode::ALREADY_EXISTS},
      {"PERMISSION_DENIED", grpc::StatusCode::PERMISSION_DENIED},
      {"RESOURCE_EXHAUSTED", grpc::StatusCode::RESOURCE_EXHAUSTED},
      {"FAILED_PRECONDITION", grpc::StatusCode::FAILED_PRECONDITION},
      {"ABORTED", grpc::StatusCode::ABORTED},
      {"OUT_OF_RANGE", grpc::StatusCode::OUT_OF_RANGE},
      {"UNIMPLEMENTED", grpc::StatusCode::UNIMPLEMENTED},
      {"INTERNAL", grpc::StatusCode::INTERNAL},
      {"UNAVAILABLE", grpc::StatusCode::UNAVAILABLE},
      {"DATA_LOSS", grpc::StatusCode::DATA_LOSS},
      {"UNAUTHENTICATED", grpc::StatusCode::UNAUTHENTICATED},
  };
  for (const auto& [name, code] : k) {
    if (n == name) return code;
  }
  return std::nullopt;
}

// "90s", "15m", "73h", "3d", or a number of seconds.
std::optional<Duration> ParseDuration(const json& v) {
  if (v.is_number())
    return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(v.get<double>()));
  if (!v.is_string()) return std::nullopt;
  std::string s = v.get<std::string>();
  if (s.empty()) return std::nullopt;
  char unit = s.back();
  double mult = 1;
  if (unit == 's')
    mult = 1;
  else if (unit == 'm')
    mult = 60;
  else if (unit == 'h')
    mult = 3600;
  else if (unit == 'd')
    mult = 86400;
  else
    unit = 0;
  if (unit) s.pop_back();
  try {
    size_t used = 0;
    double n = std::stod(s, &used);
    if (used != s.size() || n < 0) return std::nullopt;
    return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(n * mult));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

json LedgerJson(const std::vector<LedgerEntry>& entries) {
  json arr = json::array();
  for (const auto& e : entries) {
    arr.push_back({{"topic", e.topic},
                   {"event_id", e.event_id},
                   {"replay_id", std::to_string(e.replay_id)},
                   {"replay_id_base64", Base64Encode(EncodeReplayId(e.replay_id))},
                   {"schema_id", e.schema_id},
                   {"payload_sha256", e.payload_sha256},
                   {"payload_size", e.payload_size},
                   {"stored_ms", e.stored_ms},
                   {"origin", e.origin},
                   {"kind", e.kind}});
  }
  return arr;
}

}  // namespace

std::multimap<std::string, std::string> ParseForm(const std::string& body) {
  std::multimap<std::string, std::string> out;
  size_t start = 0;
  while (start <= body.size()) {
    size_t amp = body.find('&', start);
    if (amp == std::string::npos) amp = body.size();
    std::string_view pair(body.data() + start, amp - start);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      if (eq == std::string_view::npos) {
        out.emplace(UrlDecode(pair), "");
      } else {
        out.emplace(UrlDecode(pair.substr(0, eq)), UrlDecode(pair.substr(eq + 1)));
      }
    }
    start = amp + 1;
  }
  return out;
}

Result<std::pair<std::string, int>> SplitHostPort(const std::string& listen) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos)
    return Status::InvalidArgument("expected host:port, got " + listen);
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  int port = 0;
  try {
    port = std::stoi(listen.substr(colon + 1));
  } catch (const std::exception&) {
    return Status::InvalidArgument("bad port in " + listen);
  }
  if (port < 0 || port > 65535) return Status::InvalidArgument("bad port in " + listen);
  return std::make_pair(host, port);
}

HttpApi::HttpApi(Emulator* emulator) : emu_(emulator) {}

HttpApi::~HttpApi() { Stop(); }

Result<int> HttpApi::Start(const std::string& listen, const std::string& cert_file,
                           const std::string& key_file) {
  FP_ASSIGN_OR_RETURN(auto hp, SplitHostPort(listen));
  if (!cert_file.empty()) {
    auto ssl = std::make_unique<httplib::SSLServer>(cert_file.c_str(), key_file.c_str());
    if (!ssl->is_valid()) return Status::Internal("HTTPS server: bad certificate or key");
    server_ = std::move(ssl);
  } else {
    server_ = std::make_unique<httplib::Server>();
  }
  Routes();
  int port = hp.second;
  if (port == 0) {
    port = server_->bind_to_any_port(hp.first);
    if (port <= 0) return Status::IOError("cannot bind HTTP on " + listen);
  } else if (!server_->bind_to_port(hp.first, port)) {
    return Status::IOError("cannot bind HTTP on " + listen);
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // cpp-httplib ignores stop() until the listen loop runs: wait for it, so a
  // Stop() right after Start() cannot leave the loop running forever.
  for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
       !server_->is_running() && std::chrono::steady_clock::now() < until;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return port;
}

void HttpApi::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

void HttpApi::Routes() {
  httplib::Server& s = *server_;
  Emulator* emu = emu_;

  // --- OAuth / REST -------------------------------------------------------------------
  s.Post("/services/oauth2/token", [emu](const httplib::Request& req, httplib::Response& res) {
    HttpReply r = emu->oauth().Token(ParseForm(req.body), req.get_header_value("Authorization"));
    Reply(res, r.status, r.body);
  });
  s.Get("/services/oauth2/userinfo", [emu](const httplib::Request& req, httplib::Response& res) {
    HttpReply r = emu->oauth().UserInfo(req.get_header_value("Authorization"));
    Reply(res, r.status, r.body);
  });
  s.Post("/services/oauth2/userinfo", [emu](const httplib::Request& req, httplib::Response& res) {
    HttpReply r = emu->oauth().UserInfo(req.get_header_value("Authorization"));
    Reply(res, r.status, r.body);
  });
  s.Post("/services/oauth2/revoke", [emu](const httplib::Request& req, httplib::Response& res) {
    auto form = ParseForm(req.body);
    for (const auto& [k, v] : req.params) form.emplace(k, v);
    HttpReply r = emu->oauth().Revoke(form);
    Reply(res, r.status, r.body);
  });
  s.Get("/services/data", [](const httplib::Request&, httplib::Response& res) {
    json arr = json::array();
    for (const char* v : {"60.0", "61.0", "62.0"}) {
      arr.push_back(
          {{"label", "Emulator"}, {"url", std::string("/services/data/v") + v}, {"version", v}});
    }
    ReplyJson(res, 200, arr);
  });
  // describeGlobal, any vNN.N, with or without the trailing slash. A path whose version
  // segment is not vNN.N is 404 NOT_FOUND (checked before the token, as the resource does
  // not exist); then the bearer token must be a live access token (401 INVALID_SESSION_ID).
  s.Get(R"(/services/data/([^/]+)/sobjects/?)",
        [this, emu](const httplib::Request& req, httplib::Response& res) {
          const std::string version = req.matches[1];
          if (!IsRestApiVersion(version)) {
            return Reply(res, 404, kRestNotFound);
          }
          const std::string auth = req.get_header_value("Authorization");
          const std::string token = auth.rfind("Bearer ", 0) == 0 ? auth.substr(7) : "";
          if (!emu->tokens().CheckAccess(token)) return Reply(res, 401, kRestInvalidSession);
          res.set_header("Sforce-Limit-Info",
                         "api-usage=" + std::to_string(rest_calls_.fetch_add(1) + 1) + "/" +
                             std::to_string(kDailyApiLimit));
          Reply(res, 200, DescribeGlobalJson(SObjectsForTopics(emu->bus().TopicNames()), version));
        });

  // --- Admin --------------------------------------------------------------------------
  // cpp-httplib refuses a POST that has neither Content-Length nor chunked encoding (as
  // `curl -X POST` sends) with 400 before routing. Admin POSTs take an optional body, so
  // such a request is dispatched here, from the pre-routing hook, with an empty body.
  auto bodyless = std::make_shared<std::map<std::string, httplib::Server::Handler>>();
  auto admin_post = [&s, bodyless](const std::string& path, httplib::Server::Handler h) {
    (*bodyless)[path] = h;
    s.Post(path, std::move(h));
  };
  s.set_pre_routing_handler([emu, bodyless](const httplib::Request& req, httplib::Response& res) {
    if (req.path.rfind("/admin/", 0) != 0) return httplib::Server::HandlerResponse::Unhandled;
    const std::string want = "Bearer " + emu->endpoints().admin_token;
    const std::string got = req.get_header_value("Authorization");
    bool ok = got.size() == want.size();
    unsigned char d = 0;
    for (size_t i = 0; ok && i < got.size(); ++i) d |= static_cast<unsigned char>(got[i] ^ want[i]);
    ok = ok && d == 0;
    if (!IsLoopback(req.remote_addr)) {
      ReplyJson(res, 403,
                {{"error", "PermissionDenied"}, {"message", "admin API is loopback only"}});
      return httplib::Server::HandlerResponse::Handled;
    }
    if (!ok) {
      ReplyJson(res, 401,
                {{"error", "Unauthenticated"}, {"message", "admin bearer token required"}});
      return httplib::Server::HandlerResponse::Handled;
    }
    if (req.method == "POST" && !req.has_header("Content-Length") &&
        !req.has_header("Transfer-Encoding")) {
      if (auto it = bodyless->find(req.path); it != bodyless->end()) {
        it->second(req, res);
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });

  s.Get("/admin/topics", [emu](const httplib::Request&, httplib::Response& res) {
    json arr = json::array();
    for (const auto& t : emu->bus().TopicNames()) {
      auto schema = emu->bus().TopicSchemaId(t);
      arr.push_back({{"topic", t},
                     {"schema_id", schema.ok() ? *schema : ""},
                     {"retained", emu->bus().RetainedCount(t)},
                     {"latest_replay_id", std::to_string(emu->bus().Tip(t))}});
    }
    ReplyJson(res, 200,
              {{"topics", arr},
               {"generator",
                {{"paused", emu->generator().paused()},
                 {"rate", emu->generator().rate()},
                 {"emitted", emu->generator().emitted()}}}});
  });

  s.Get("/admin/streams", [emu](const httplib::Request&, httplib::Response& res) {
    json arr = json::array();
    for (const auto& st : emu->pubsub().Streams()) {
      arr.push_back({{"rpc", st.rpc},
                     {"topic", st.topic},
                     {"started", st.started},
                     {"pending", st.pending},
                     {"cursor", std::to_string(st.cursor)},
                     {"stalled", st.stalled}});
    }
    ReplyJson(res, 200, {{"streams", arr}});
  });

  s.Get("/admin/ledger", [emu](const httplib::Request& req, httplib::Response& res) {
    std::string topic = req.has_param("topic") ? req.get_param_value("topic") : "";
    ReplyJson(res, 200, {{"events", LedgerJson(emu->bus().Ledger(topic))}});
  });

  admin_post("/admin/publish", [emu](const httplib::Request& req, httplib::Response& res) {
    auto b = Body(req, res);
    if (!b) return;
    std::string topic = b->value("topic", "");
    if (b->contains("events")) {
      // Raw events: [{"id", "schema_id" (default: topic's), "payload_base64"}].
      json ids = json::array();
      for (const auto& e : (*b)["events"]) {
        BusEvent ev;
        ev.event_id = e.value("id", RandomUuid());
        auto schema = emu->bus().TopicSchemaId(topic);
        if (!schema.ok()) return ReplyStatus(res, schema.status());
        ev.schema_id = e.value("schema_id", *schema);
        auto payload = Base64Decode(e.value("payload_base64", ""));
        if (!payload)
          return ReplyStatus(res, Status::InvalidArgument("payload_base64 is not base64"));
        ev.payload = *payload;
        auto id = emu->bus().Append(topic, std::move(ev), "admin", e.value("kind", ""));
        if (!id.ok()) return ReplyStatus(res, id.status());
        ids.push_back(std::to_string(*id));
      }
      return ReplyJson(res, 200, {{"replay_ids", ids}});
    }
    int count = b->value("count", 1);
    auto ids = emu->generator().Emit(topic, count);
    if (!ids.ok()) return ReplyStatus(res, ids.status());
    json arr = json::array();
    for (uint64_t id : *ids) arr.push_back(std::to_string(id));
    ReplyJson(res, 200, {{"replay_ids", arr}});
  });

  admin_post("/admin/generator/pause", [emu](const httplib::Request&, httplib::Response& res) {
    emu->generator().Pause();
    ReplyJson(res, 200, {{"paused", true}});
  });
  admin_post("/admin/generator/resume", [emu](const httplib::Request&, httplib::Response& res) {
    emu->generator().Resume();
    ReplyJson(res, 200, {{"paused", false}});
  });
  admin_post("/admin/generator/rate", [emu](const httplib::Request& req, httplib::Response& res) {
    auto b = Body(req, res);
    if (!b) return;
    if (!b->contains("rate") || !(*b)["rate"].is_number() || (*b)["rate"].get<double>() < 0) {
      return ReplyStatus(res, Status::InvalidArgument("rate must be a number >= 0"));
    }
    emu->generator().SetRate((*b)["rate"].get<double>());
    ReplyJson(res, 200, {{"rate", emu->generator().rate()}});
  });

  admin_post("/admin/tokens", [emu](const httplib::Request& req, httplib::Response& res) {
    auto b = Body(req, res);
    if (!b) return;
    std::string user = b->value("username", emu->oauth().options().username);
    ReplyJson(res, 200,
              {{"access_token", emu->tokens().IssueAccessToken(user, emu->oauth().user_id())},
               {"refresh_token", emu->tokens().IssueRefreshToken(user, emu->oauth().user_id())}});
  });

  admin_post("/admin/faults/fail-next", [emu](const httplib::Request& req, httplib::Response& res) {
    auto b = Body(req, res);
    if (!b) return;
    auto rpc = RpcFromName(b->value("rpc", ""));
    if (!rpc)
      return ReplyStatus(res,
                         Status::InvalidArgument("rpc must be Subscribe, GetTopic, GetSchema, "
                                                 "Publish, PublishStream or ManagedSubscribe"));
    std::optional<RpcError> err;
    if (b->contains("fault")) {
      err = RpcError::Named(b->value("fault", ""));
      if (!err)
        return ReplyStatus(
            res, Status::InvalidArgument("unknown fault; use auth, service_unavailable, "
                                         "client_limit, replay_corrupted, topic_not_found"));
    } else {
      auto code = GrpcCodeFromName(b->value("grpc_code", ""));
      if (!code)
        return ReplyStatus(res, Status::InvalidArgument("grpc_code must be a gRPC status name"));
      std::string ec = b->value("error_code", "");
      if (!ec.empty() && ec.rfind("sfdc.", 0) != 0) ec = "sfdc.platform.eventbus.grpc." + ec;
      err = RpcError{*code, ec, b->value("message", "Injected fault.")};
    }
    int times = b->value("times", 1);
    for (int i = 0; i < times; ++i) emu->pubsub().FailNext(*rpc, *err);
    ReplyJson(
        res, 200,
        {{"rpc", std::string(RpcName(*rpc))}, {"error_code", err->error_code}, {"times", times}});
  });
  admin_post("/admin/faults/expire-tokens", [emu](const httplib::Request&, httplib::Response& res) {
    emu->tokens().ExpireAllAccessTokens();
    ReplyJson(res, 200, {{"expired", true}});
  });
  admin_post("/admin/faults/reset-streams",
             [emu](const httplib::Request& req, httplib::Response& res) {
               auto b = Body(req, res);
               if (!b) return;
               ReplyJson(res, 200, {{"reset", emu->pubsub().ResetStreams(b->value("topic", ""))}});
             });
  admin_post("/admin/faults/stall", [emu](const httplib::Request& req, httplib::Response& res) {
    auto b = Body(req, res);
    if (!b) return;
    ReplyJson(
        res, 200,
        {{"stalled", emu->pubsub().StallStreams(b->value("topic", ""), b->value("stall", true))}});
  });
  admin_post("/admin/faults/schema-change",
             [emu](const httplib::Request& req, httplib::Response& res) {
               auto b = Body(req, res);
               if (!b) return;
               auto id = emu->BumpSchema(b->value("topic", ""));
               if (!id.ok()) return ReplyStatus(res, id.status());
               ReplyJson(res, 200, {{"schema_id", *id}});
             });
  admin_post("/admin/faults/undecodable",
             [emu](const httplib::Request& req, httplib::Response& res) {
               auto b = Body(req, res);
               if (!b) return;
               auto id = emu->generator().EmitUndecodable(b->value("topic", ""));
               if (!id.ok()) return ReplyStatus(res, id.status());
               ReplyJson(res, 200, {{"replay_id", std::to_string(*id)}});
             });
  admin_post("/admin/faults/gap", [emu](const httplib::Request& req, httplib::Response& res) {
    auto b = Body(req, res);
    if (!b) return;
    auto id = emu->generator().EmitGap(b->value("topic", ""), b->value("change_type", "GAP_UPDATE"),
                                       b->value("records", 1));
    if (!id.ok()) return ReplyStatus(res, id.status());
    ReplyJson(res, 200, {{"replay_id", std::to_string(*id)}});
  });
  admin_post("/admin/clock/advance", [emu](const httplib::Request& req, httplib::Response& res) {
    auto b = Body(req, res);
    if (!b) return;
    auto d = ParseDuration(b->contains("by") ? (*b)["by"] : json());
    if (!d)
      return ReplyStatus(
          res, Status::InvalidArgument("\"by\" must be seconds or a duration like \"73h\""));
    emu->clock().Advance(*d);
    emu->bus().PruneAll();
    ReplyJson(res, 200, {{"now_ms", NowMillis(emu->clock())}});
  });
  s.Get("/admin/managed-subscriptions", [emu](const httplib::Request&, httplib::Response& res) {
    json arr = json::array();
    for (const auto& m : emu->pubsub().ManagedSubscriptions()) {
      arr.push_back({{"id", m.id},
                     {"developer_name", m.developer_name},
                     {"topic", m.topic},
                     {"default_replay", m.default_earliest ? "EARLIEST" : "LATEST"},
                     {"committed_replay_id", m.committed ? std::to_string(*m.committed) : ""},
                     {"active", m.active}});
    }
    ReplyJson(res, 200, {{"subscriptions", arr}});
  });
  admin_post("/admin/managed-subscriptions",
             [emu](const httplib::Request& req, httplib::Response& res) {
               auto b = Body(req, res);
               if (!b) return;
               ManagedSubscription m;
               m.developer_name = b->value("developer_name", "");
               m.id = b->value("id", "");
               m.topic = b->value("topic", "");
               m.default_earliest = b->value("default_replay", "LATEST") == "EARLIEST";
               Status st = emu->pubsub().AddManagedSubscription(m);
               if (!st.ok()) return ReplyStatus(res, st);
               ReplyJson(res, 200, {{"created", true}});
             });
}

}  // namespace forcepipe::emulator
