#include "app/app.h"

#include <arpa/inet.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "config/loader.h"
#include "core/json_text.h"
#include "core/log.h"
#include "server/server.h"

namespace forcepipe::app {

using config::Option;
using config::OptionTable;
using config::OptionType;

namespace {

const OptionTable kLane = {
    {.key = "max_entries",
     .type = OptionType::kInt,
     .default_value = "50000",
     .description = "entries the lane may hold (queued, batching, in flight)",
     .min = 1,
     .max = 100000000},
    {.key = "max_bytes",
     .type = OptionType::kSize,
     .default_value = "64MiB",
     .description = "bytes the lane may hold; producers block beyond it",
     .min = 64 * 1024},
};
const OptionTable kPipeline = {
    {.key = "shutdown_grace",
     .type = OptionType::kDuration,
     .default_value = "25s",
     .description = "how long a stop may drain before undelivered batches are abandoned",
     .min = 0,
     .max = 3600},
    {.key = "streaming",
     .type = OptionType::kSection,
     .description = "the streaming lane (Pub/Sub)",
     .section = &kLane},
    {.key = "bulk",
     .type = OptionType::kSection,
     .description = "the bulk lane (polling, EventLogFile, ApexLog)",
     .section = &kLane},
};
const OptionTable kTop = {
    {.key = "data_dir",
     .type = OptionType::kString,
     .default_value = "forcepipe-data",
     .description = "where forcepipe keeps local files (dead letters)"},
    {.key = "pipeline",
     .type = OptionType::kSection,
     .description = "queues and shutdown",
     .section = &kPipeline},
    {.key = "server",
     .type = OptionType::kSection,
     .description = "the HTTP server: /metrics, /healthz, /readyz, /status",
     .section = &server::ServerOptionTable()},
};
const OptionTable kBatch = {
    {.key = "max_entries",
     .type = OptionType::kInt,
     .default_value = "1000",
     .description = "flush a batch at this many entries",
     .min = 1,
     .max = 1000000},
    {.key = "max_bytes",
     .type = OptionType::kSize,
     .default_value = "1MiB",
     .description = "flush a batch at this many bytes",
     .min = 1024,
     .max = 256 << 20},
    {.key = "interval",
     .type = OptionType::kDuration,
     .default_value = "1s",
     .description = "flush a non-empty batch after this long",
     .min = 0.001,
     .max = 3600},
};
const OptionTable kRetry = {
    {.key = "initial_backoff",
     .type = OptionType::kDuration,
     .default_value = "100ms",
     .description = "first retry wait (exponential, full jitter)",
     .min = 0.001,
     .max = 3600},
    {.key = "max_backoff",
     .type = OptionType::kDuration,
     .default_value = "30s",
     .description = "longest retry wait",
     .min = 0.001,
     .max = 86400},
    {.key = "max_retry_after",
     .type = OptionType::kDuration,
     .default_value = "5m",
     .description = "cap on a server's Retry-After",
     .min = 0,
     .max = 86400},
};
const Option kTypeOption = {
    .key = "type", .type = OptionType::kString, .description = "the kind", .required = true};
const OptionTable kSinkCommon = {
    {.key = "batch", .type = OptionType::kSection, .description = "batching", .section = &kBatch},
    {.key = "max_in_flight",
     .type = OptionType::kInt,
     .default_value = "1",
     .description = "pushes in flight at once (commits stay in order)",
     .min = 1,
     .max = 64},
    {.key = "retry",
     .type = OptionType::kSection,
     .description = "retries of failed pushes",
     .section = &kRetry},
};

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

using config::EscapeForMessage;
using config::QuoteForMessage;

// A duration in the largest unit that divides it exactly: 60s -> "1m",
// 90s -> "90s", 1500ms -> "1500ms".
std::string FormatDuration(Duration d) {
  int64_t ns = d.count();
  struct Unit {
    int64_t ns;
    const char* name;
  };
  for (Unit u : {Unit{3600'000'000'000, "h"}, Unit{60'000'000'000, "m"}, Unit{1'000'000'000, "s"},
                 Unit{1'000'000, "ms"}, Unit{1'000, "us"}}) {
    if (ns != 0 && ns % u.ns == 0) return std::to_string(ns / u.ns) + u.name;
  }
  return std::to_string(ns) + "ns";
}

bool IsDnsName(const std::string& h) {
  if (h.empty() || h.size() > 253) return false;
  size_t start = 0;
  while (start <= h.size()) {
    size_t dot = h.find('.', start);
    std::string label = h.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return false;
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    }
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return true;
}

// server.listen: host:port with an IPv4 or [IPv6] address or a host name, and
// a port 0-65535. Checked here so that `config check` and `run` agree.
Status CheckListen(const std::string& listen) {
  const std::string p = "server.listen: ";
  auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Status::InvalidArgument(p + "expected host:port like 127.0.0.1:8080, got " +
                                   QuoteForMessage(listen));
  }
  std::string host = listen.substr(0, colon);
  std::string port = listen.substr(colon + 1);
  bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (bracketed) host = host.substr(1, host.size() - 2);
  bool port_ok = !port.empty() && port.size() <= 5 &&
                 std::all_of(port.begin(), port.end(),
                             [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) &&
                 std::stoi(port) <= 65535;
  if (!port_ok) {
    return Status::InvalidArgument(p +
                                   "port must be a number from 0 to 65535 (0 picks a free "
                                   "port), got " +
                                   QuoteForMessage(port));
  }
  unsigned char addr[16];
  bool host_ok;
  if (bracketed || host.find(':') != std::string::npos) {
    host_ok = inet_pton(AF_INET6, host.c_str(), addr) == 1;
  } else if (std::all_of(host.begin(), host.end(), [](char c) {
               return std::isdigit(static_cast<unsigned char>(c)) || c == '.';
             })) {
    host_ok = inet_pton(AF_INET, host.c_str(), addr) == 1;
  } else {
    host_ok = IsDnsName(host);
  }
  if (!host_ok) {
    return Status::InvalidArgument(p +
                                   "expected an IPv4 address, [IPv6] address or host name "
                                   "before the port, got " +
                                   QuoteForMessage(host));
  }
  return Status::Ok();
}

// Factories add their path as context at each level ("sources.sf:
// sources.sf.auth: sources.sf.auth: ..."): keeps the innermost of a run of
// leading paths that nest.
Status PathOnce(const Status& s) {
  if (s.ok()) return s;
  std::string m = s.message();
  for (;;) {
    size_t a = m.find(": ");
    if (a == std::string::npos) break;
    std::string first = m.substr(0, a);
    if (first.empty() || first.find(' ') != std::string::npos) break;
    std::string rest = m.substr(a + 2);
    size_t b = rest.find(": ");
    std::string second = rest.substr(0, b);
    bool nests = second == first || second.rfind(first + ".", 0) == 0;
    if (!nests || b == std::string::npos) break;
    m = rest;
  }
  return Status(s.code(), m);
}

// Instance names become checkpoint keys, metric labels and file names.
Status CheckInstanceName(const std::string& seam, const YAML::Node& key) {
  const std::string& name = key.Scalar();
  bool ok = !name.empty() && name.find('/') == std::string::npos && name != "." && name != "..";
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ok = false;
  }
  if (ok) return Status::Ok();
  std::string line =
      key.Mark().line >= 0 ? " (line " + std::to_string(key.Mark().line + 1) + ")" : "";
  return Status::InvalidArgument(seam + "." + EscapeForMessage(name) + ": bad name" + line +
                                 "; a name must be non-empty, without '/' or control characters");
}

// Every backoff pair in `node` and its sections (`initial_backoff` /
// `max_backoff`, `reconnect_initial_backoff` / `reconnect_max_backoff`, ...):
// the first wait may not exceed the longest.
Status CheckBackoffs(const config::Node& node) {
  if (!node.table()) return Status::Ok();
  for (const auto& o : *node.table()) {
    if (o.type == OptionType::kSection) {
      FP_RETURN_IF_ERROR(CheckBackoffs(node.GetSection(o.key)));
      continue;
    }
    size_t at = o.key.find("initial_backoff");
    if (o.type != OptionType::kDuration || at == std::string::npos || !node.Has(o.key)) continue;
    std::string max_key = o.key.substr(0, at) + "max_backoff" + o.key.substr(at + 15);
    bool has_max = std::any_of(node.table()->begin(), node.table()->end(), [&](const auto& m) {
      return m.key == max_key && m.type == OptionType::kDuration;
    });
    if (!has_max || !node.Has(max_key)) continue;
    Duration initial = node.GetDuration(o.key), max = node.GetDuration(max_key);
    if (initial > max) {
      return Status::InvalidArgument(node.PathOf(o.key) + ": " + FormatDuration(initial) +
                                     " is longer than " + node.PathOf(max_key) + " (" +
                                     FormatDuration(max) + ")");
    }
  }
  return Status::Ok();
}

// The most a file named by a `*_file` string option (a CA bundle) may hold.
constexpr uintmax_t kMaxOptionFileBytes = 16 << 20;

// Every `*_file` string option set in `node` and its sections names a regular
// file of at most kMaxOptionFileBytes (components read them whole later).
Status CheckFileOptions(const config::Node& node) {
  if (!node.table()) return Status::Ok();
  for (const auto& o : *node.table()) {
    if (o.type == OptionType::kSection) {
      FP_RETURN_IF_ERROR(CheckFileOptions(node.GetSection(o.key)));
      continue;
    }
    bool file_option = o.key.size() > 5 && o.key.compare(o.key.size() - 5, 5, "_file") == 0;
    if (o.type != OptionType::kString || !file_option || node.GetString(o.key).empty()) continue;
    const std::string path = node.GetString(o.key);
    const std::string shown = node.PathOf(o.key) + ": " + EscapeForMessage(path);
    std::error_code ec;
    auto st = std::filesystem::status(path, ec);
    if (ec) return Status::InvalidArgument(shown + ": " + ec.message());
    if (std::filesystem::is_directory(st))
      return Status::InvalidArgument(shown + ": is a directory");
    if (!std::filesystem::is_regular_file(st))
      return Status::InvalidArgument(shown + ": not a regular file");
    if (std::filesystem::file_size(path, ec) > kMaxOptionFileBytes && !ec) {
      return Status::InvalidArgument(shown + ": larger than the 16 MiB limit");
    }
  }
  return Status::Ok();
}

void RegisterSecrets(const config::Node& node) {
  if (!node.table()) return;
  for (const auto& o : *node.table()) {
    if (o.type == OptionType::kSecret && node.Has(o.key))
      log::RegisterSecret(node.GetString(o.key));
    if (o.type == OptionType::kSection) RegisterSecrets(node.GetSection(o.key));
  }
}

template <typename T>
Result<LoadedConfig::Instance<T>> LoadInstance(const YAML::Node& yaml, const std::string& path,
                                               const std::string& name, const TypedRegistry<T>& reg,
                                               const OptionTable* common, LoadedConfig& out,
                                               const config::Environment& env) {
  if (!yaml.IsMap()) return Status::InvalidArgument(path + ": expected a mapping with a type");
  YAML::Node type = yaml["type"];
  if (!type.IsDefined() || !type.IsScalar()) {
    return Status::InvalidArgument(path + ".type: required; one of " + Join(reg.Kinds()));
  }
  const Factory<T>* f = reg.Find(type.Scalar());
  if (!f) {
    return Status::InvalidArgument(path + ".type: unknown kind " + QuoteForMessage(type.Scalar()) +
                                   "; expected one of " + Join(reg.Kinds()));
  }
  auto table = std::make_unique<OptionTable>();
  table->push_back(kTypeOption);
  if (common) table->insert(table->end(), common->begin(), common->end());
  table->insert(table->end(), f->options->begin(), f->options->end());
  FP_ASSIGN_OR_RETURN(config::Node node, config::Validate(yaml, *table, path, env));
  FP_RETURN_IF_ERROR(CheckBackoffs(node));
  FP_RETURN_IF_ERROR(CheckFileOptions(node));
  out.tables.push_back(std::move(table));
  RegisterSecrets(node);
  LoadedConfig::Instance<T> inst;
  inst.name = name;
  inst.path = path;
  inst.factory = f;
  inst.node = std::move(node);
  return inst;
}

LaneOptions LaneFrom(const config::Node& lane, const config::Node& sink, uint64_t seed) {
  LaneOptions o;
  o.queue_max_entries = static_cast<size_t>(lane.GetInt("max_entries"));
  o.queue_max_bytes = lane.GetSize("max_bytes");
  const config::Node& b = sink.GetSection("batch");
  o.batch_max_entries = static_cast<size_t>(b.GetInt("max_entries"));
  o.batch_max_bytes = b.GetSize("max_bytes");
  o.batch_interval = b.GetDuration("interval");
  o.max_in_flight = static_cast<int>(sink.GetInt("max_in_flight"));
  const config::Node& r = sink.GetSection("retry");
  o.retry.initial = r.GetDuration("initial_backoff");
  o.retry.max = r.GetDuration("max_backoff");
  o.retry.max_after = r.GetDuration("max_retry_after");
  o.seed = seed;
  return o;
}

// Wraps a started sink so its own checkpoint table can be used alone.
class SinkBackedStore final : public CheckpointStore {
 public:
  explicit SinkBackedStore(std::unique_ptr<Sink> sink) : sink_(std::move(sink)) {}
  ~SinkBackedStore() override { sink_->Stop(); }
  std::string_view kind() const override { return sink_->kind(); }
  Result<std::optional<std::string>> Load(std::string_view key) override {
    return sink_->checkpoint_store()->Load(key);
  }
  Result<CheckpointMap> LoadAll() override { return sink_->checkpoint_store()->LoadAll(); }
  Status Commit(const CommitRequest& r) override { return sink_->checkpoint_store()->Commit(r); }

 private:
  std::unique_ptr<Sink> sink_;
};

FactoryContext ContextFor(const LoadedConfig& c, const std::string& name) {
  FactoryContext ctx;
  ctx.name = name;
  ctx.data_dir = c.top.GetString("data_dir");
  return ctx;
}

}  // namespace

// RegisterBuiltins is generated from src/CMakeLists.txt (cmake/components.cmake).

Result<std::unique_ptr<LoadedConfig>> LoadConfig(const YAML::Node& root, const Registry& registry,
                                                 const config::Environment& env) {
  auto out = std::make_unique<LoadedConfig>();
  if (!root.IsMap())
    return Status::InvalidArgument("the config must be a mapping with sources and sinks");
  // Validated in place (not a copy) so that errors keep their line numbers.
  static const std::vector<std::string> kDynamic = {"checkpoint", "sources", "sinks"};
  FP_ASSIGN_OR_RETURN(out->top, config::Validate(root, kTop, "", env, kDynamic));
  if (out->top.GetString("data_dir").empty()) {
    return Status::InvalidArgument("data_dir: must not be empty (default: forcepipe-data)");
  }
  const config::Node& server = out->top.GetSection("server");
  if (server.GetBool("enabled")) FP_RETURN_IF_ERROR(CheckListen(server.GetString("listen")));

  YAML::Node sources = root["sources"];
  if (!sources.IsDefined() || !sources.IsMap() || sources.size() == 0) {
    return Status::InvalidArgument(
        "sources: expected a mapping of one or more named sources, e.g. sources: {gen: {type: "
        "synthetic}}");
  }
  for (const auto& kv : sources) {
    std::string name = kv.first.Scalar();
    FP_RETURN_IF_ERROR(CheckInstanceName("sources", kv.first));
    FP_ASSIGN_OR_RETURN(auto inst, LoadInstance<Source>(kv.second, "sources." + name, name,
                                                        registry.sources, nullptr, *out, env));
    out->sources.push_back(std::move(inst));
  }

  YAML::Node sinks = root["sinks"];
  if (!sinks.IsDefined() || !sinks.IsMap() || sinks.size() == 0) {
    return Status::InvalidArgument(
        "sinks: expected a mapping with one named sink, e.g. sinks: {out: {type: jsonl, path: "
        "events.jsonl}}");
  }
  if (sinks.size() > 1) {
    return Status::InvalidArgument("sinks: exactly one sink per process is supported (got " +
                                   std::to_string(sinks.size()) + "); run one forcepipe per sink");
  }
  for (const auto& kv : sinks) {
    std::string name = kv.first.Scalar();
    FP_RETURN_IF_ERROR(CheckInstanceName("sinks", kv.first));
    FP_ASSIGN_OR_RETURN(out->sink, LoadInstance<Sink>(kv.second, "sinks." + name, name,
                                                      registry.sinks, &kSinkCommon, *out, env));
  }
  // A batch must fit in its lane, or it could only ever flush by interval.
  for (const char* lane : {"streaming", "bulk"}) {
    uint64_t lane_bytes = out->top.GetSection("pipeline").GetSection(lane).GetSize("max_bytes");
    uint64_t batch_bytes = out->sink.node.GetSection("batch").GetSize("max_bytes");
    if (batch_bytes * 2 > lane_bytes) {
      return Status::InvalidArgument(out->sink.path +
                                     ".batch.max_bytes: " + std::to_string(batch_bytes) +
                                     " bytes must be at most half of pipeline." + lane +
                                     ".max_bytes (" + std::to_string(lane_bytes) + " bytes)");
    }
  }

  YAML::Node cp = root["checkpoint"];
  if (cp.IsDefined() && !cp.IsNull()) {
    FP_ASSIGN_OR_RETURN(out->checkpoint, LoadInstance<CheckpointStore>(
                                             cp, "checkpoint", "checkpoint",
                                             registry.checkpoint_stores, nullptr, *out, env));
    out->has_checkpoint = true;
  }
  return out;
}

Result<std::unique_ptr<LoadedConfig>> LoadConfigFile(const std::string& path,
                                                     const Registry& registry) {
  FP_ASSIGN_OR_RETURN(YAML::Node root, config::LoadYamlFile(path));
  auto r = LoadConfig(root, registry);
  if (!r.ok()) return Status::InvalidArgument(path + ": " + r.status().message());
  (*r)->file = path;
  return r;
}

namespace {

// What BuildEngine assembles. Creating the parts validates what the option
// tables cannot (DSNs, topics, retention, the checkpoint requirement); it
// opens, creates and connects to nothing, except the checkpoint store when
// `open_store` (its factory opens the file or database).
struct Parts {
  std::unique_ptr<Sink> sink;
  std::unique_ptr<CheckpointStore> store;
  std::vector<std::unique_ptr<Source>> sources;
};

Result<Parts> CreateParts(const LoadedConfig& c, bool open_store) {
  Parts parts;
  auto sink = c.sink.factory->create(c.sink.node, ContextFor(c, c.sink.name));
  if (!sink.ok()) return PathOnce(sink.status().WithContext(c.sink.path));
  parts.sink = std::move(sink).value();
  if (!c.has_checkpoint && !parts.sink->checkpoint_store()) {
    return Status::InvalidArgument("checkpoint: required because sink " + c.sink.name + " (type " +
                                   std::string(parts.sink->kind()) +
                                   ") does not store checkpoints itself; add e.g. "
                                   "checkpoint: {type: file, path: forcepipe-checkpoints.json}");
  }
  if (c.has_checkpoint && open_store) {
    auto s = c.checkpoint.factory->create(c.checkpoint.node, ContextFor(c, "checkpoint"));
    if (!s.ok()) return PathOnce(s.status().WithContext("checkpoint"));
    parts.store = std::move(s).value();
  }
  for (const auto& s : c.sources) {
    auto src = s.factory->create(s.node, ContextFor(c, s.name));
    if (!src.ok()) return PathOnce(src.status().WithContext(s.path));
    parts.sources.push_back(std::move(src).value());
  }
  return parts;
}

}  // namespace

Status CheckConfig(const LoadedConfig& c) { return CreateParts(c, /*open_store=*/false).status(); }

Result<std::unique_ptr<Engine>> BuildEngine(const LoadedConfig& c, const Clock* clock) {
  std::error_code ec;
  std::string data_dir = c.top.GetString("data_dir");
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return Status::IOError("data_dir " + data_dir + ": " + ec.message());

  FP_ASSIGN_OR_RETURN(Parts parts, CreateParts(c, /*open_store=*/true));
  EngineOptions o;
  const config::Node& p = c.top.GetSection("pipeline");
  o.shutdown_grace = p.GetDuration("shutdown_grace");
  o.streaming = LaneFrom(p.GetSection("streaming"), c.sink.node, 1);
  o.bulk = LaneFrom(p.GetSection("bulk"), c.sink.node, 2);
  o.dead_letter_path = (std::filesystem::path(data_dir) / "dead-letters.jsonl").string();
  return std::make_unique<Engine>(std::move(o), std::move(parts.sources), std::move(parts.sink),
                                  std::move(parts.store), clock);
}

Result<std::unique_ptr<server::StatusServer>> StartServer(const LoadedConfig& c,
                                                          const Engine& engine,
                                                          const std::string& version) {
  const config::Node& n = c.top.GetSection("server");
  if (!n.GetBool("enabled")) return std::unique_ptr<server::StatusServer>();
  server::ServerOptions o;
  o.listen = n.GetString("listen");
  o.auth_token = n.GetString("auth_token");
  o.sink_failing_threshold = n.GetDuration("sink_failing_threshold");
  o.workers = static_cast<int>(n.GetInt("workers"));
  o.request_timeout = n.GetDuration("request_timeout");
  o.version = version;
  auto s = std::make_unique<server::StatusServer>(o, &engine);
  // One record's history, as `forcepipe history --json` prints it, when the
  // sink offers that capability.
  if (RecordHistory* history = engine.sink() ? engine.sink()->record_history() : nullptr) {
    const Engine* eng = &engine;
    s->AddRoute(R"(/api/v1/records/([A-Za-z0-9_.-]{1,64})/events)", [history, eng](
                                                                        const std::map<std::string,
                                                                                       std::string>&
                                                                            p) {
      if (!eng->running()) {  // the store is opened by the engine's start
        return server::StatusServer::Response{503, "application/json", "{\"error\":\"starting\"}"};
      }
      int limit = 50;
      if (auto it = p.find("limit"); it != p.end())
        limit = std::clamp(std::atoi(it->second.c_str()), 1, 1000);
      std::string type = p.count("type") ? p.at("type") : "";
      auto body = history->RecordEventsJson(p.at("1"), limit, type);
      if (!body.ok()) {
        std::string err = "{\"error\":\"";
        json::AppendEscaped(&err, log::Redact(body.status().message()));
        return server::StatusServer::Response{503, "application/json", err + "\"}"};
      }
      return server::StatusServer::Response{200, "application/json", *body};
    });
  }
  FP_RETURN_IF_ERROR(s->Start());
  return s;
}

Result<std::shared_ptr<CheckpointStore>> OpenCheckpointStore(const LoadedConfig& c) {
  if (c.has_checkpoint) {
    auto s = c.checkpoint.factory->create(c.checkpoint.node, ContextFor(c, "checkpoint"));
    if (!s.ok()) return s.status().WithContext("checkpoint");
    return std::shared_ptr<CheckpointStore>(std::move(s).value());
  }
  FP_ASSIGN_OR_RETURN(std::unique_ptr<Sink> sink,
                      c.sink.factory->create(c.sink.node, ContextFor(c, c.sink.name)));
  if (!sink->checkpoint_store()) {
    return Status::InvalidArgument("checkpoint: the config has no checkpoint store and sink " +
                                   c.sink.name + " keeps none");
  }
  FP_RETURN_IF_ERROR(sink->Start());
  return std::shared_ptr<CheckpointStore>(std::make_shared<SinkBackedStore>(std::move(sink)));
}

std::string RenderExampleConfig(const Registry& r) {
  std::string out =
      "# forcepipe configuration. Values may use ${ENV} and ${ENV:-default}; secrets may\n"
      "# be read from a file with <key>_file. Durations: 250ms, 30s, 5m, 1h. Sizes: 512KiB, "
      "256MiB.\n\n";
  out += config::RenderExample(kTop, 0);
  out +=
      "\n# Where resume positions are kept (not needed when the sink is sql: it keeps\n"
      "# them in its own transaction).\ncheckpoint:\n  type: file\n  path: "
      "forcepipe-checkpoints.json\n";
  out += "\nsources:\n  gen:\n    type: synthetic\n";
  if (auto* f = r.sources.Find("synthetic")) out += config::RenderExample(*f->options, 4);
  out += "\nsinks:\n  out:\n    type: jsonl\n    path: events.jsonl\n";
  out += config::RenderExample(kSinkCommon, 4);
  out += "\n# ---- every kind and its options ----\n";
  auto section = [&](const std::string& title, const std::vector<std::string>& kinds, auto find) {
    for (const auto& k : kinds) {
      const auto* f = find(k);
      out += "\n# " + title + " type: " + k + " — " + f->description + "\n";
      std::string body = config::RenderExample(*f->options, 0);
      size_t pos = 0;
      while (pos < body.size()) {
        size_t nl = body.find('\n', pos);
        std::string line = body.substr(pos, nl - pos);
        out += "#   " + line + "\n";
        pos = nl == std::string::npos ? body.size() : nl + 1;
      }
    }
  };
  section("source", r.sources.Kinds(), [&](const std::string& k) { return r.sources.Find(k); });
  section("sink", r.sinks.Kinds(), [&](const std::string& k) { return r.sinks.Find(k); });
  section("checkpoint", r.checkpoint_stores.Kinds(),
          [&](const std::string& k) { return r.checkpoint_stores.Find(k); });
  return out;
}

}  // namespace forcepipe::app
