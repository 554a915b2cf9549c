#pragma once

// Emulator: a local Salesforce for the demo, integration tests and benchmarks, embeddable
// in a process. It runs
//   - the Pub/Sub gRPC service (PubSubService) on `grpc_listen`, TLS with a self-signed
//     certificate generated at start (or a given cert/key), or plaintext on request;
//   - one HTTP(S) server on `http_listen` with the OAuth token/userinfo/revoke endpoints
//     and the admin API (bearer admin token, loopback clients only), see http_api.h;
//   - the event generator (Generator) at `rate` events/s.
// Time comes from an injectable Clock wrapped in an OffsetClock so the admin API can
// advance it (retention tests) without touching the base clock.
//
// Thread safety: Start/Stop from one thread; accessors are safe once started.
// Lifecycle: construct -> Start() -> ... -> Stop() (also run by the destructor).

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "emulator/event_bus.h"
#include "emulator/generator.h"
#include "emulator/oauth.h"
#include "emulator/pubsub_service.h"
#include "emulator/schemas.h"
#include "emulator/token_store.h"
#include "emulator/util.h"

namespace grpc {
class Server;
}

namespace forcepipe::emulator {

class HttpApi;

struct TopicConfig {
  std::string name;         // "/data/AccountChangeEvent"
  std::string schema;       // embedded schema name ("AccountChangeEvent"); or use schema_file
  std::string schema_file;  // path to an Avro schema JSON file
  EventKind kind = EventKind::kNone;
  double weight = 1;
  size_t firehose_event_bytes = 0;  // > 0: firehose topic of pre-encoded events this size
  bool can_publish = true;
  // Non-empty: this topic carries a copy of every event of these topics (mixed schemas, as
  // /data/ChangeEvents); its GetTopic schema id is the first source's. No generator.
  std::vector<std::string> mirror_of;
  // true: a firehose of `pool_size` realistic events of this topic's schema and `kind`
  // (made by the generator, encoded once), served endlessly at full speed.
  // (Last, so positional initialisers of the fields above keep their meaning.)
  bool firehose = false;
  size_t pool_size = 1024;
};

struct EmulatorOptions {
  std::string grpc_listen = "127.0.0.1:0";
  std::string http_listen = "127.0.0.1:0";
  bool plaintext = false;
  std::string tls_cert_file;  // both empty: self-signed certificate generated at start
  std::string tls_key_file;
  uint64_t seed = 1;
  double rate = 10;         // generated events/s over all topics; 0 = as fast as possible
  uint64_t max_events = 0;  // stop generating after this many (0 = unlimited)
  bool generate = true;     // run the background generator
  std::string org_id;       // 18-char tenant id; default derived from the seed
  std::string admin_token;  // default: random
  Duration retention = std::chrono::hours(72);
  Duration token_lifetime = std::chrono::hours(2);
  PubSubOptions pubsub;  // keepalive, idle, limits (org_id is filled in)
  OAuthOptions oauth;
  std::vector<TopicConfig> topics;                         // empty: DefaultTopics()
  std::vector<ManagedSubscription> managed_subscriptions;  // empty: one per CDC topic
  Clock* clock = nullptr;                                  // not owned; default Clock::Real()
};

// /data/AccountChangeEvent, /data/ContactChangeEvent (cdc), /event/LoginEventStream (login),
// /event/Order_Event__e (platform).
std::vector<TopicConfig> DefaultTopics();

// Reads a YAML emulator config file on top of `base` (keys documented in README.md).
Result<EmulatorOptions> LoadEmulatorConfig(const std::string& path, EmulatorOptions base);

struct EmulatorEndpoints {
  std::string grpc_endpoint;  // host:port
  std::string http_endpoint;  // http(s)://host:port
  std::string instance_url;
  std::string tenant_id;
  std::string access_token;  // minted at start for the configured user
  std::string admin_token;
  std::string ca_file;       // "" in plaintext mode
  std::string jwt_key_file;  // generated RSA private key for jwt-bearer ("" if cert given)
  int grpc_port = 0;
  int http_port = 0;
};

class Emulator {
 public:
  explicit Emulator(EmulatorOptions options);
  ~Emulator();
  Emulator(const Emulator&) = delete;
  Emulator& operator=(const Emulator&) = delete;

  Status Start();
  void Stop();

  const EmulatorEndpoints& endpoints() const { return endpoints_; }
  // The single startup JSON line (no trailing newline).
  std::string StartupJson() const;

  EventBus& bus() { return *bus_; }
  Generator& generator() { return *generator_; }
  PubSubService& pubsub() { return *pubsub_; }
  TokenStore& tokens() { return *tokens_; }
  OAuthService& oauth() { return *oauth_; }
  SchemaRegistry& schemas() { return *schemas_; }
  OffsetClock& clock() { return *clock_; }
  const EmulatorOptions& options() const { return options_; }

  // Moves `topic` to a new schema version (one more nullable field); returns the new id.
  Result<std::string> BumpSchema(const std::string& topic);

 private:
  Status SetUpTopics();

  EmulatorOptions options_;
  std::unique_ptr<OffsetClock> clock_;
  std::unique_ptr<EventBus> bus_;
  std::unique_ptr<SchemaRegistry> schemas_;
  std::unique_ptr<TokenStore> tokens_;
  std::unique_ptr<OAuthService> oauth_;
  std::unique_ptr<PubSubService> pubsub_;
  std::unique_ptr<Generator> generator_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<HttpApi> http_;
  EmulatorEndpoints endpoints_;
  std::string temp_dir_;  // generated TLS/JWT files; removed by Stop()
  int schema_bumps_ = 0;
  bool started_ = false;
};

}  // namespace forcepipe::emulator
