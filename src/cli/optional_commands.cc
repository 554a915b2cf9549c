// Commands whose components may be left out of a build (FORCEPIPE_ONLY):
// tail, publish, schema (Pub/Sub), emulator, history (SQL store).

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <iostream>
#include <thread>

#include "app/app.h"
#include "cli/commands.h"
#include "core/log.h"
#ifdef FORCEPIPE_WITH_PUBSUB
#include "salesforce/auth/auth_config.h"
#include "sources/pubsub/pubsub_source.h"
#include "sources/pubsub/tools.h"
#endif
#ifdef FORCEPIPE_WITH_EMULATOR
#include "emulator/emulator_main.h"
#endif
#ifdef FORCEPIPE_WITH_SINK_SQL
#include "sinks/sql/history.h"
#endif
#ifdef FORCEPIPE_WITH_DOCTOR
#include "doctor/doctor.h"
#endif

namespace forcepipe::cli {
namespace {

constexpr int kOk = 0;
constexpr int kRuntime = 1;
constexpr int kConfig = 2;

struct Optional {
  CLI::App* tail = nullptr;
  CLI::App* publish = nullptr;
  CLI::App* schema = nullptr;
  CLI::App* emulator = nullptr;
  CLI::App* history = nullptr;
  CLI::App* doctor = nullptr;
  // Pub/Sub connection flags.
  std::string topic;
  std::string from = "latest";
  int64_t limit = 0;
  std::string endpoint;
  bool insecure = false;
  std::string ca;
  std::string access_token;
  std::string instance_url;
  std::string tenant_id;
  std::string org;
  std::string schema_id;
  std::string emulator_config;
};

Optional& State() {
  static Optional o;
  return o;
}

void Fail(const std::string& what, const Status& s) {
  std::fprintf(stderr, "forcepipe: %s: %s\n", what.c_str(), log::Redact(s.message()).c_str());
}

#ifdef FORCEPIPE_WITH_PUBSUB
void AddConnectionFlags(CLI::App* cmd, Options& o) {
  auto& s = State();
  cmd->add_option("--endpoint", s.endpoint, "Pub/Sub API host:port");
  cmd->add_flag("--insecure", s.insecure, "plaintext gRPC (a local emulator only)");
  cmd->add_option("--ca", s.ca, "PEM file of CA certificates to trust");
  cmd->add_option("--access-token", s.access_token, "OAuth access token or session id");
  cmd->add_option("--instance-url", s.instance_url, "e.g. https://acme.my.salesforce.com");
  cmd->add_option("--tenant-id", s.tenant_id, "the org id");
  cmd->add_option("-c,--config", o.config_file,
                  "take endpoint and auth from this config's pubsub source");
  cmd->add_option("--org", s.org, "with -c: the pubsub source (by name or org label) to use");
}

Result<pubsub::Connection> MakeConnection(const Options& o) {
  auto& s = State();
  pubsub::Connection c;
  if (!o.config_file.empty()) {
    Registry reg;
    FP_RETURN_IF_ERROR(app::RegisterBuiltins(reg));
    FP_ASSIGN_OR_RETURN(auto cfg, app::LoadConfigFile(o.config_file, reg));
    const app::LoadedConfig::Instance<Source>* pick = nullptr;
    int candidates = 0;
    for (const auto& src : cfg->sources) {
      if (src.factory->kind != "pubsub") continue;
      ++candidates;
      if (s.org.empty() || src.name == s.org || src.node.GetString("org") == s.org) pick = &src;
    }
    if (!pick) {
      return Status::InvalidArgument(o.config_file + ": no pubsub source" +
                                     (s.org.empty() ? "" : " named " + s.org));
    }
    if (candidates > 1 && s.org.empty()) {
      return Status::InvalidArgument(o.config_file +
                                     ": several pubsub sources; choose one with --org");
    }
    FactoryContext fctx;
    fctx.name = pick->name;
    FP_ASSIGN_OR_RETURN(auto so, pubsub::OptionsFromNode(pick->node, fctx));
    c.client = so.client;
    FP_ASSIGN_OR_RETURN(c.tokens, salesforce::MakeTokenProvider(pick->node.GetSection("auth")));
  } else {
    if (s.access_token.empty() || s.instance_url.empty() || s.tenant_id.empty()) {
      return Status::InvalidArgument(
          "give --access-token, --instance-url and --tenant-id, or -c FILE");
    }
    log::RegisterSecret(s.access_token);
    salesforce::AuthConfig a;
    a.flow = salesforce::AuthFlow::kStatic;
    a.access_token = s.access_token;
    a.instance_url = s.instance_url;
    a.org_id = s.tenant_id;
    FP_ASSIGN_OR_RETURN(c.tokens, salesforce::NewTokenProvider(a));
    c.client.endpoint = "api.pubsub.salesforce.com:7443";
  }
  if (!s.endpoint.empty()) c.client.endpoint = s.endpoint;
  if (s.insecure) c.client.plaintext = true;
  if (!s.ca.empty()) c.client.ca_file = s.ca;
  return c;
}

std::atomic<bool> g_tail_stop{false};
#endif

}  // namespace

void AddOptionalCommands(CLI::App& app, Options& o) {
  auto& s = State();
#ifdef FORCEPIPE_WITH_DOCTOR
  s.doctor = app.add_subcommand(
      "doctor",
      "check a config against the real endpoints: credentials, topics, sink, checkpoints");
  s.doctor->add_option("-c,--config", o.config_file, "config file")->required();
  s.doctor->add_flag("--json", o.json, "JSON instead of a table");
#endif
#ifdef FORCEPIPE_WITH_PUBSUB
  s.tail =
      app.add_subcommand("tail", "subscribe to a topic and print decoded events as JSON lines");
  s.tail->add_option("topic", s.topic, "e.g. /data/AccountChangeEvent")->required();
  s.tail->add_option("--from", s.from, "earliest, latest (default) or a base64 replay id");
  s.tail->add_option("--limit", s.limit, "exit 0 after this many events");
  AddConnectionFlags(s.tail, o);
  s.publish = app.add_subcommand(
      "publish", "publish JSON lines from stdin to a topic (one result line per event)");
  s.publish->add_option("topic", s.topic, "e.g. /event/Order_Event__e")->required();
  AddConnectionFlags(s.publish, o);
  s.schema = app.add_subcommand(
      "schema", "print a topic's current schema (or one schema by --id) and its id");
  s.schema->add_option("topic", s.topic, "e.g. /data/AccountChangeEvent");
  s.schema->add_option("--id", s.schema_id, "a schema id");
  AddConnectionFlags(s.schema, o);
#endif
#ifdef FORCEPIPE_WITH_EMULATOR
  s.emulator = app.add_subcommand(
      "emulator", "run the local Salesforce emulator (Pub/Sub gRPC, OAuth, admin API)");
  s.emulator->add_option("--grpc-listen", o.grpc_listen, "HOST:PORT for gRPC (port 0 picks one)");
  s.emulator->add_option("--http-listen", o.http_listen,
                         "HOST:PORT for OAuth/REST/admin (port 0 picks one)");
  s.emulator->add_flag("--plaintext", o.plaintext, "no TLS");
  s.emulator->add_option("--seed", o.seed, "generator seed");
  s.emulator->add_option("--rate", o.rate, "generated events per second (0 = as fast as possible)");
  s.emulator->add_option("--config", s.emulator_config, "emulator config file");
#endif
#ifdef FORCEPIPE_WITH_SINK_SQL
  s.history = app.add_subcommand(
      "history", "print one record's change history from the SQL store, newest first");
  s.history->add_option("record_id", o.record_id, "a Salesforce record id")->required();
  s.history->add_option("--limit", o.limit, "at most this many events");
  s.history->add_option("--type", o.type, "only this event type");
  s.history->add_flag("--json", o.json, "JSON instead of text");
  s.history->add_option("-c,--config", o.config_file, "config file with a sql sink")->required();
#endif
}

int RunOptionalCommands(CLI::App& app, const Options& o) {
  auto& s = State();
#ifdef FORCEPIPE_WITH_DOCTOR
  if (s.doctor && *s.doctor) return doctor::RunDoctor(o.config_file, o.json, std::cout);
#endif
#ifdef FORCEPIPE_WITH_PUBSUB
  if (s.tail && *s.tail) {
    auto c = MakeConnection(o);
    if (!c.ok()) {
      Fail("tail", c.status());
      return kConfig;
    }
    pubsub::TailOptions t;
    t.topic = s.topic;
    t.from = s.from;
    t.limit = s.limit;
    // SIGINT/SIGTERM are blocked; a watcher thread turns them into a stop.
    std::thread watcher([] {
      sigset_t set;
      sigemptyset(&set);
      sigaddset(&set, SIGINT);
      sigaddset(&set, SIGTERM);
      timespec ts{0, 100 * 1000 * 1000};
      while (!g_tail_stop) {
        if (sigtimedwait(&set, nullptr, &ts) > 0) g_tail_stop = true;
      }
    });
    Status st = pubsub::RunTail(std::move(c).value(), t, stdout, &g_tail_stop);
    g_tail_stop = true;
    pthread_kill(watcher.native_handle(), SIGTERM);  // wake it now, not at its next timeout
    watcher.join();
    if (!st.ok()) {
      Fail("tail", st);
      return st.code() == StatusCode::kInvalidArgument ? kConfig : kRuntime;
    }
    return kOk;
  }
  if (s.publish && *s.publish) {
    auto c = MakeConnection(o);
    if (!c.ok()) {
      Fail("publish", c.status());
      return kConfig;
    }
    Status st = pubsub::RunPublish(std::move(c).value(), s.topic, std::cin, std::cout);
    if (!st.ok()) {
      Fail("publish", st);
      return kRuntime;
    }
    return kOk;
  }
  if (s.schema && *s.schema) {
    if (s.topic.empty() && s.schema_id.empty()) {
      std::fprintf(stderr, "forcepipe: schema: give a TOPIC or --id ID\n");
      return kConfig;
    }
    auto c = MakeConnection(o);
    if (!c.ok()) {
      Fail("schema", c.status());
      return kConfig;
    }
    Status st = pubsub::RunSchema(std::move(c).value(), s.topic, s.schema_id, std::cout);
    if (!st.ok()) {
      Fail("schema", st);
      return kRuntime;
    }
    return kOk;
  }
#endif
#ifdef FORCEPIPE_WITH_EMULATOR
  if (s.emulator && *s.emulator) {
    emulator::EmulatorCliOptions e;
    e.grpc_listen = o.grpc_listen;
    e.http_listen = o.http_listen;
    e.plaintext = o.plaintext;
    e.seed = o.seed;
    e.rate = o.rate;
    e.config_file = s.emulator_config;
    // The emulator waits for SIGINT/SIGTERM itself.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    return emulator::RunEmulatorCommand(e);
  }
#endif
#ifdef FORCEPIPE_WITH_SINK_SQL
  if (s.history && *s.history) {
    Registry reg;
    Status rs = app::RegisterBuiltins(reg);
    auto cfg = app::LoadConfigFile(o.config_file, reg);
    if (!cfg.ok()) {
      Fail("history", cfg.status());
      return kConfig;
    }
    if ((*cfg)->sink.factory->kind != "sql") {
      std::fprintf(stderr, "forcepipe: history: %s has no sql sink\n", o.config_file.c_str());
      return kConfig;
    }
    return RunHistoryCommand((*cfg)->sink.node, o.record_id, o.limit, o.type, o.json, std::cout,
                             std::cerr);
  }
#endif
  (void)app;
  (void)o;
  return kConfig;
}

}  // namespace forcepipe::cli
