#include "app/app.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>

#include "config/loader.h"
#include "core/json_text.h"
#include "core/log.h"
#include "server/server.h"
#include "sources/synthetic/synthetic_source.h"
#ifdef FORCEPIPE_WITH_CHECKPOINT
#include "checkpoint/factories.h"
#endif
#ifdef FORCEPIPE_WITH_SINK_FILE
#include "sinks/file/file_sinks.h"
#endif
#ifdef FORCEPIPE_WITH_SINK_LOKI
#include "sinks/loki/loki_sink.h"
#endif
#ifdef FORCEPIPE_WITH_SINK_SQL
#include <sstream>

#include "sinks/sql/history.h"
#include "sinks/sql/sql_sink.h"
#endif
#ifdef FORCEPIPE_WITH_PUBSUB
#include "sources/pubsub/pubsub_source.h"
#endif

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
    return Status::InvalidArgument(path + ".type: unknown kind \"" + type.Scalar() +
                                   "\"; expected one of " + Join(reg.Kinds()));
  }
  auto table = std::make_unique<OptionTable>();
  table->push_back(kTypeOption);
  if (common) table->insert(table->end(), common->begin(), common->end());
  table->insert(table->end(), f->options->begin(), f->options->end());
  FP_ASSIGN_OR_RETURN(config::Node node, config::Validate(yaml, *table, path, env));
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

Status RegisterBuiltins(Registry& r) {
  FP_RETURN_IF_ERROR(r.sources.Register(SyntheticSourceFactory()));
#ifdef FORCEPIPE_WITH_PUBSUB
  FP_RETURN_IF_ERROR(r.sources.Register(pubsub::PubSubSourceFactory()));
#endif
#ifdef FORCEPIPE_WITH_CHECKPOINT
  FP_RETURN_IF_ERROR(r.checkpoint_stores.Register(FileCheckpointStoreFactory()));
  FP_RETURN_IF_ERROR(r.checkpoint_stores.Register(SqliteCheckpointStoreFactory()));
#endif
#ifdef FORCEPIPE_WITH_SINK_FILE
  FP_RETURN_IF_ERROR(r.sinks.Register(JsonlSinkFactory()));
  FP_RETURN_IF_ERROR(r.sinks.Register(StdoutSinkFactory()));
#endif
#ifdef FORCEPIPE_WITH_SINK_LOKI
  FP_RETURN_IF_ERROR(r.sinks.Register(LokiSinkFactory()));
#endif
#ifdef FORCEPIPE_WITH_SINK_SQL
  FP_RETURN_IF_ERROR(r.sinks.Register(SqlSinkFactory()));
#endif
  return Status::Ok();
}

Result<std::unique_ptr<LoadedConfig>> LoadConfig(const YAML::Node& root, const Registry& registry,
                                                 const config::Environment& env) {
  auto out = std::make_unique<LoadedConfig>();
  if (!root.IsMap())
    return Status::InvalidArgument("the config must be a mapping with sources and sinks");
  static const char* kDynamic[] = {"checkpoint", "sources", "sinks"};
  YAML::Node top = YAML::Clone(root);
  for (const char* k : kDynamic) top.remove(k);
  auto topv = config::Validate(top, kTop, "", env);
  if (!topv.ok()) {
    std::string m = topv.status().message();
    if (m.find("unknown key") != std::string::npos) m += ", checkpoint, sources, sinks";
    return Status::InvalidArgument(m);
  }
  out->top = std::move(topv).value();

  YAML::Node sources = root["sources"];
  if (!sources.IsDefined() || !sources.IsMap() || sources.size() == 0) {
    return Status::InvalidArgument(
        "sources: expected a mapping of one or more named sources, e.g. sources: {gen: {type: "
        "synthetic}}");
  }
  for (const auto& kv : sources) {
    std::string name = kv.first.Scalar();
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

Result<std::unique_ptr<Engine>> BuildEngine(const LoadedConfig& c, const Clock* clock) {
  std::error_code ec;
  std::string data_dir = c.top.GetString("data_dir");
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return Status::IOError("data_dir " + data_dir + ": " + ec.message());

  FP_ASSIGN_OR_RETURN(std::unique_ptr<Sink> sink,
                      c.sink.factory->create(c.sink.node, ContextFor(c, c.sink.name)));
  std::unique_ptr<CheckpointStore> store;
  if (c.has_checkpoint) {
    auto s = c.checkpoint.factory->create(c.checkpoint.node, ContextFor(c, "checkpoint"));
    if (!s.ok()) return s.status().WithContext("checkpoint");
    store = std::move(s).value();
  } else if (!sink->checkpoint_store()) {
    return Status::InvalidArgument("checkpoint: required because sink " + c.sink.name + " (type " +
                                   std::string(sink->kind()) +
                                   ") does not store checkpoints itself; add e.g. "
                                   "checkpoint: {type: file, path: forcepipe-checkpoints.json}");
  }
  std::vector<std::unique_ptr<Source>> sources;
  for (const auto& s : c.sources) {
    auto src = s.factory->create(s.node, ContextFor(c, s.name));
    if (!src.ok()) return src.status().WithContext(s.path);
    sources.push_back(std::move(src).value());
  }
  EngineOptions o;
  const config::Node& p = c.top.GetSection("pipeline");
  o.shutdown_grace = p.GetDuration("shutdown_grace");
  o.streaming = LaneFrom(p.GetSection("streaming"), c.sink.node, 1);
  o.bulk = LaneFrom(p.GetSection("bulk"), c.sink.node, 2);
  o.dead_letter_path = (std::filesystem::path(data_dir) / "dead-letters.jsonl").string();
  return std::make_unique<Engine>(std::move(o), std::move(sources), std::move(sink),
                                  std::move(store), clock);
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
#ifdef FORCEPIPE_WITH_SINK_SQL
  // One record's history, as `forcepipe history --json` prints it.
  if (auto* sql = dynamic_cast<sql::SqlSink*>(const_cast<Sink*>(engine.sink()))) {
    const Engine* eng = &engine;
    s->AddRoute(R"(/api/v1/records/([A-Za-z0-9_.-]{1,64})/events)", [sql, eng](
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
      auto rows = sql->QueryHistory(p.at("1"), limit, type);
      if (!rows.ok()) {
        std::string body = "{\"error\":\"";
        json::AppendEscaped(&body, log::Redact(rows.status().message()));
        return server::StatusServer::Response{503, "application/json", body + "\"}"};
      }
      std::ostringstream out;
      sql::PrintHistory(*rows, true, out);
      return server::StatusServer::Response{200, "application/json", out.str()};
    });
  }
#endif
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
