#include "emulator/emulator.h"

#include <grpcpp/grpcpp.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "avro/encoder.h"
#include "emulator/http_api.h"
#include "emulator/tls.h"

namespace forcepipe::emulator {

namespace {

constexpr char kFirehoseSchema[] =
    R"({"type":"record","name":"Firehose__e","namespace":"com.sforce.eventbus","fields":[)"
    R"({"name":"CreatedDate","type":"long","doc":"CreatedDate:DateTime"},)"
    R"({"name":"CreatedById","type":"string","doc":"CreatedBy:EntityId"},)"
    R"({"name":"Data__c","type":["null","string"],"doc":"Data:Text:00N000000EmuFire","default":null}]})";

// Pre-encodes `count` firehose payloads of about `bytes` bytes each.
Result<std::vector<std::string>> FirehosePayloads(const LoadedSchema& schema, size_t bytes,
                                                  uint64_t seed) {
  std::vector<std::string> out;
  std::mt19937_64 rng(seed);
  for (int i = 0; i < 64; ++i) {
    const int64_t created = 1'700'000'000'000 + i;
    const std::string user = SalesforceId("005", 1000 + i);
    // Fixed overhead: long (~6) + string (1 + 18) + union (1) + length varint (2-3).
    size_t overhead = 6 + 19 + 1 + 3;
    std::string data(bytes > overhead ? bytes - overhead : 1, 'x');
    for (auto& c : data) c = static_cast<char>('a' + rng() % 26);
    avro::Value v = avro::Value::Record({avro::Value::Long(created), avro::Value::String(user),
                                         avro::Value::String(std::move(data))});
    std::string payload;
    FP_RETURN_IF_ERROR(avro::Encode(*schema.schema, v, &payload));
    out.push_back(std::move(payload));
  }
  return out;
}

Result<std::string> GenerateJwtKey(const std::string& dir, std::string* public_pem) {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  if (!key) return Status::Internal("RSA key generation failed");
  BIO* pub = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(pub, key);
  char* data = nullptr;
  long n = BIO_get_mem_data(pub, &data);
  *public_pem = std::string(data, static_cast<size_t>(n));
  BIO_free(pub);
  BIO* priv = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(priv, key, nullptr, nullptr, 0, nullptr, nullptr);
  n = BIO_get_mem_data(priv, &data);
  std::string priv_pem(data, static_cast<size_t>(n));
  BIO_free(priv);
  EVP_PKEY_free(key);
  std::string path = dir + "/jwt_key.pem";
  std::ofstream out(path, std::ios::binary);
  std::filesystem::permissions(
      path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  out << priv_pem;
  if (!out) return Status::IOError("writing " + path);
  return path;
}

std::string MakeTempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/forcepipe-emulator-XXXXXX";
  if (!mkdtemp(tmpl.data())) return "";
  return tmpl;
}

}  // namespace

std::vector<TopicConfig> DefaultTopics() {
  return {
      {"/data/AccountChangeEvent", "AccountChangeEvent", "", EventKind::kCdc, 3, 0, true},
      {"/data/ContactChangeEvent", "ContactChangeEvent", "", EventKind::kCdc, 2, 0, true},
      {"/event/LoginEventStream", "LoginEventStream", "", EventKind::kLogin, 4, 0, false},
      {"/event/Order_Event__e", "Order_Event__e", "", EventKind::kPlatform, 1, 0, true},
  };
}

Emulator::Emulator(EmulatorOptions options) : options_(std::move(options)) {}

Emulator::~Emulator() { Stop(); }

Status Emulator::SetUpTopics() {
  std::vector<TopicConfig> topics = options_.topics.empty() ? DefaultTopics() : options_.topics;
  for (const auto& t : topics) {
    if (!t.mirror_of.empty()) continue;  // created once their sources exist
    std::string json;
    if (t.firehose_event_bytes > 0) {
      json = t.schema.empty() && t.schema_file.empty() ? kFirehoseSchema : "";
    }
    if (json.empty() && !t.schema_file.empty()) {
      FP_ASSIGN_OR_RETURN(json, ReadFile(t.schema_file));
    } else if (json.empty()) {
      const EmbeddedSchema* e = FindEmbeddedSchema(t.schema);
      if (!e)
        return Status::NotFound("topic " + t.name + ": no embedded schema named '" + t.schema +
                                "'");
      json = e->json;
    }
    auto loaded = schemas_->Register(json);
    if (!loaded.ok()) return loaded.status().WithContext("topic " + t.name);
    TopicSettings settings;
    settings.can_publish = t.can_publish;
    if (t.firehose) {
      if (t.kind == EventKind::kNone) {
        return Status::InvalidArgument("topic " + t.name +
                                       ": a firehose needs a kind (cdc, login or platform)");
      }
      if (t.pool_size == 0 || t.pool_size > 1'000'000) {
        return Status::InvalidArgument("topic " + t.name + ": pool_size must be 1..1000000");
      }
      EventFactory factory(t.name, t.kind, options_.seed, clock_.get());
      for (size_t i = 0; i < t.pool_size; ++i) {
        auto ev = factory.Next(**loaded);
        if (!ev.ok()) return ev.status().WithContext("topic " + t.name + " firehose pool");
        settings.firehose_payloads.push_back(std::move(ev->event.payload));
        settings.firehose_kinds.push_back(std::move(ev->kind));
      }
      settings.can_publish = false;
    } else if (t.firehose_event_bytes > 0) {
      FP_ASSIGN_OR_RETURN(settings.firehose_payloads,
                          FirehosePayloads(**loaded, t.firehose_event_bytes, options_.seed));
      settings.can_publish = false;
    }
    FP_RETURN_IF_ERROR(bus_->AddTopic(t.name, (*loaded)->id, std::move(settings)));
    if (t.firehose_event_bytes == 0 && !t.firehose) {
      FP_RETURN_IF_ERROR(generator_->AddTopic({t.name, t.kind, t.weight}));
    }
  }
  for (const auto& t : topics) {
    if (t.mirror_of.empty()) continue;
    auto first = bus_->TopicSchemaId(t.mirror_of.front());
    if (!first.ok()) return first.status().WithContext("topic " + t.name + " mirror_of");
    TopicSettings settings;
    settings.can_publish = false;
    FP_RETURN_IF_ERROR(bus_->AddTopic(t.name, *first, settings));
    for (const auto& src : t.mirror_of) {
      FP_RETURN_IF_ERROR(bus_->AddMirror(src, t.name).WithContext("topic " + t.name));
    }
  }
  std::vector<ManagedSubscription> managed = options_.managed_subscriptions;
  if (managed.empty()) {
    for (const auto& t : topics) {
      if (t.kind != EventKind::kCdc) continue;
      ManagedSubscription m;
      std::string base = t.name.substr(t.name.rfind('/') + 1);
      m.developer_name = "Managed_" + base;
      m.topic = t.name;
      managed.push_back(m);
    }
  }
  for (auto& m : managed) FP_RETURN_IF_ERROR(pubsub_->AddManagedSubscription(m));
  return Status::Ok();
}

Status Emulator::Start() {
  if (started_) return Status::FailedPrecondition("emulator already started");
  clock_ = std::make_unique<OffsetClock>(options_.clock ? options_.clock : Clock::Real());
  if (options_.org_id.empty()) options_.org_id = SalesforceId("00D", 4242 + options_.seed % 1000);
  if (options_.org_id.size() != 18)
    return Status::InvalidArgument("org_id must have 18 characters");
  bus_ = std::make_unique<EventBus>(clock_.get(), options_.retention, options_.seed);
  schemas_ = std::make_unique<SchemaRegistry>(bus_.get());
  tokens_ = std::make_unique<TokenStore>(clock_.get(), options_.org_id, options_.token_lifetime);
  oauth_ =
      std::make_unique<OAuthService>(tokens_.get(), clock_.get(), options_.oauth, options_.org_id);
  PubSubOptions ps = options_.pubsub;
  ps.org_id = options_.org_id;
  pubsub_ = std::make_unique<PubSubService>(bus_.get(), tokens_.get(), clock_.get(), ps);
  generator_ = std::make_unique<Generator>(bus_.get(), schemas_.get(), clock_.get(), options_.seed);
  FP_RETURN_IF_ERROR(SetUpTopics());
  pubsub_->SetPayloadValidator([reg = schemas_.get()](const std::string& id, std::string_view p) {
    auto schema = reg->Find(id);
    if (!schema) return Status::NotFound("unknown schema id " + id);
    avro::Value v;
    return schema->decoder->DecodeInto(p, &v);
  });

  std::string tmp = MakeTempDir();
  if (tmp.empty()) return Status::IOError("cannot create a temp directory");
  temp_dir_ = tmp;

  // TLS material.
  TlsMaterial tls;
  if (!options_.plaintext) {
    if (!options_.tls_cert_file.empty() || !options_.tls_key_file.empty()) {
      FP_ASSIGN_OR_RETURN(tls, LoadTlsFiles(options_.tls_cert_file, options_.tls_key_file));
    } else {
      FP_ASSIGN_OR_RETURN(tls, GenerateSelfSignedCert());
      tls.cert_file = tmp + "/ca.pem";
      tls.key_file = tmp + "/tls_key.pem";
      std::ofstream(tls.cert_file, std::ios::binary) << tls.cert_pem;
      {
        std::ofstream k(tls.key_file, std::ios::binary);
        std::filesystem::permissions(
            tls.key_file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
        k << tls.key_pem;
      }
    }
    endpoints_.ca_file = tls.cert_file;
  }

  // JWT verification key.
  if (!options_.oauth.jwt_cert_file.empty()) {
    FP_ASSIGN_OR_RETURN(std::string pem, ReadFile(options_.oauth.jwt_cert_file));
    FP_RETURN_IF_ERROR(oauth_->SetJwtVerificationPem(pem));
  } else {
    std::string pub;
    FP_ASSIGN_OR_RETURN(endpoints_.jwt_key_file, GenerateJwtKey(tmp, &pub));
    FP_RETURN_IF_ERROR(oauth_->SetJwtVerificationPem(pub));
  }

  // gRPC.
  std::shared_ptr<grpc::ServerCredentials> creds;
  if (options_.plaintext) {
    creds = grpc::InsecureServerCredentials();
  } else {
    grpc::SslServerCredentialsOptions o;
    o.pem_key_cert_pairs.push_back({tls.key_pem, tls.cert_pem});
    creds = grpc::SslServerCredentials(o);
  }
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options_.grpc_listen, creds, &port);
  builder.RegisterService(pubsub_.get());
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  server_ = builder.BuildAndStart();
  if (!server_ || port == 0)
    return Status::IOError("cannot listen for gRPC on " + options_.grpc_listen);
  FP_ASSIGN_OR_RETURN(auto ghp, SplitHostPort(options_.grpc_listen));
  std::string ghost = ghp.first == "0.0.0.0" || ghp.first.empty() ? "127.0.0.1" : ghp.first;
  if (ghost.find(':') != std::string::npos) ghost = "[" + ghost + "]";
  endpoints_.grpc_endpoint = ghost + ":" + std::to_string(port);
  endpoints_.grpc_port = port;

  // HTTP(S).
  endpoints_.admin_token = options_.admin_token.empty() ? RandomToken(40) : options_.admin_token;
  http_ = std::make_unique<HttpApi>(this);
  FP_ASSIGN_OR_RETURN(int http_port,
                      http_->Start(options_.http_listen, tls.cert_file, tls.key_file));
  FP_ASSIGN_OR_RETURN(auto hhp, SplitHostPort(options_.http_listen));
  std::string hhost = hhp.first == "0.0.0.0" || hhp.first.empty() ? "127.0.0.1" : hhp.first;
  if (hhost.find(':') != std::string::npos) hhost = "[" + hhost + "]";
  endpoints_.http_endpoint = std::string(options_.plaintext ? "http://" : "https://") + hhost +
                             ":" + std::to_string(http_port);
  endpoints_.http_port = http_port;
  endpoints_.instance_url = endpoints_.http_endpoint;
  oauth_->SetInstanceUrl(endpoints_.instance_url);
  endpoints_.tenant_id = options_.org_id;
  endpoints_.access_token = tokens_->IssueAccessToken(options_.oauth.username, oauth_->user_id());

  pubsub_->Start();
  if (options_.generate) generator_->Start(options_.rate, options_.max_events);
  started_ = true;
  return Status::Ok();
}

void Emulator::Stop() {
  if (generator_) generator_->Stop();
  if (http_) http_->Stop();
  if (server_) {
    // Streams never end on their own (stalled ones least of all): cancel them soon.
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(300));
    server_->Wait();
    server_.reset();
  }
  if (pubsub_) pubsub_->Stop();
  if (!temp_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(temp_dir_, ec);
    temp_dir_.clear();
  }
  started_ = false;
}

std::string Emulator::StartupJson() const {
  nlohmann::json j = {{"grpc_endpoint", endpoints_.grpc_endpoint},
                      {"http_endpoint", endpoints_.http_endpoint},
                      {"instance_url", endpoints_.instance_url},
                      {"tenant_id", endpoints_.tenant_id},
                      {"access_token", endpoints_.access_token},
                      {"admin_token", endpoints_.admin_token},
                      {"ca_file", endpoints_.ca_file},
                      {"plaintext", options_.plaintext},
                      {"client_id", options_.oauth.client_id},
                      {"client_secret", options_.oauth.client_secret},
                      {"username", options_.oauth.username},
                      {"jwt_key_file", endpoints_.jwt_key_file}};
  return j.dump();
}

Result<std::string> Emulator::BumpSchema(const std::string& topic) {
  FP_ASSIGN_OR_RETURN(std::string current, bus_->TopicSchemaId(topic));
  auto loaded = schemas_->Find(current);
  if (!loaded) return Status::NotFound("schema " + current + " not registered");
  ++schema_bumps_;
  FP_ASSIGN_OR_RETURN(std::string json,
                      AddFieldToSchema(loaded->compact_json,
                                       "Emulator_Field_" + std::to_string(schema_bumps_) + "__c"));
  FP_ASSIGN_OR_RETURN(auto next, schemas_->Register(json));
  FP_RETURN_IF_ERROR(bus_->SetTopicSchema(topic, next->id));
  return next->id;
}

// ---------------------------------------------------------------------------------------
// Config file

namespace {

Result<Duration> ParseDurationText(const std::string& path, const std::string& s) {
  size_t i = 0;
  while (i < s.size() && (isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  if (i == 0) return Status::InvalidArgument(path + ": bad duration '" + s + "'");
  double n = std::stod(s.substr(0, i));
  std::string unit = s.substr(i);
  double secs;
  if (unit == "ms")
    secs = n / 1000;
  else if (unit == "s" || unit.empty())
    secs = n;
  else if (unit == "m")
    secs = n * 60;
  else if (unit == "h")
    secs = n * 3600;
  else if (unit == "d")
    secs = n * 86400;
  else
    return Status::InvalidArgument(path + ": bad duration unit in '" + s + "'");
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(secs));
}

Status CheckKeys(const YAML::Node& n, const std::string& path,
                 std::initializer_list<const char*> keys) {
  if (!n.IsMap()) return Status::InvalidArgument(path + ": expected a mapping");
  for (const auto& kv : n) {
    std::string k = kv.first.as<std::string>();
    bool known = false;
    for (const char* x : keys) known |= k == x;
    if (!known) return Status::InvalidArgument(path + "." + k + ": unknown key");
  }
  return Status::Ok();
}

}  // namespace

Result<EmulatorOptions> LoadEmulatorConfig(const std::string& path, EmulatorOptions o) {
  try {
    YAML::Node root = YAML::LoadFile(path);
    if (!root || root.IsNull()) return o;
    FP_RETURN_IF_ERROR(CheckKeys(root, "emulator",
                                 {"grpc_listen",
                                  "http_listen",
                                  "plaintext",
                                  "tls_cert_file",
                                  "tls_key_file",
                                  "seed",
                                  "rate",
                                  "max_events",
                                  "generate",
                                  "org_id",
                                  "admin_token",
                                  "retention",
                                  "token_lifetime",
                                  "keepalive_interval",
                                  "idle_timeout",
                                  "publish_stream_idle_timeout",
                                  "max_events_per_response",
                                  "max_streams_per_connection",
                                  "oauth",
                                  "topics",
                                  "managed_subscriptions"}));
    auto str = [&](const char* k, std::string* out) {
      if (root[k]) *out = root[k].as<std::string>();
    };
    str("grpc_listen", &o.grpc_listen);
    str("http_listen", &o.http_listen);
    str("tls_cert_file", &o.tls_cert_file);
    str("tls_key_file", &o.tls_key_file);
    str("org_id", &o.org_id);
    str("admin_token", &o.admin_token);
    if (root["plaintext"]) o.plaintext = root["plaintext"].as<bool>();
    if (root["seed"]) o.seed = root["seed"].as<uint64_t>();
    if (root["rate"]) o.rate = root["rate"].as<double>();
    if (root["max_events"]) o.max_events = root["max_events"].as<uint64_t>();
    if (root["generate"]) o.generate = root["generate"].as<bool>();
    auto dur = [&](const char* k, Duration* out) -> Status {
      if (!root[k]) return Status::Ok();
      FP_ASSIGN_OR_RETURN(
          *out, ParseDurationText(std::string("emulator.") + k, root[k].as<std::string>()));
      return Status::Ok();
    };
    FP_RETURN_IF_ERROR(dur("retention", &o.retention));
    FP_RETURN_IF_ERROR(dur("token_lifetime", &o.token_lifetime));
    FP_RETURN_IF_ERROR(dur("keepalive_interval", &o.pubsub.keepalive_interval));
    FP_RETURN_IF_ERROR(dur("idle_timeout", &o.pubsub.idle_timeout));
    FP_RETURN_IF_ERROR(dur("publish_stream_idle_timeout", &o.pubsub.publish_stream_idle_timeout));
    if (root["max_events_per_response"]) {
      o.pubsub.max_events_per_response = root["max_events_per_response"].as<size_t>();
    }
    if (root["max_streams_per_connection"]) {
      o.pubsub.max_streams_per_connection = root["max_streams_per_connection"].as<int>();
    }
    if (YAML::Node a = root["oauth"]) {
      FP_RETURN_IF_ERROR(CheckKeys(a, "emulator.oauth",
                                   {"client_id", "client_secret", "username", "password", "user_id",
                                    "jwt_cert_file", "audiences"}));
      if (a["client_id"]) o.oauth.client_id = a["client_id"].as<std::string>();
      if (a["client_secret"]) o.oauth.client_secret = a["client_secret"].as<std::string>();
      if (a["username"]) o.oauth.username = a["username"].as<std::string>();
      if (a["password"]) o.oauth.password = a["password"].as<std::string>();
      if (a["user_id"]) o.oauth.user_id = a["user_id"].as<std::string>();
      if (a["jwt_cert_file"]) o.oauth.jwt_cert_file = a["jwt_cert_file"].as<std::string>();
      if (a["audiences"]) o.oauth.audiences = a["audiences"].as<std::vector<std::string>>();
    }
    if (YAML::Node ts = root["topics"]) {
      o.topics.clear();
      for (size_t i = 0; i < ts.size(); ++i) {
        const std::string p = "emulator.topics[" + std::to_string(i) + "]";
        YAML::Node t = ts[i];
        FP_RETURN_IF_ERROR(
            CheckKeys(t, p,
                      {"name", "schema", "schema_file", "kind", "weight", "firehose_event_bytes",
                       "firehose", "pool_size", "can_publish", "mirror_of"}));
        TopicConfig c;
        if (!t["name"]) return Status::InvalidArgument(p + ".name: required");
        c.name = t["name"].as<std::string>();
        if (t["schema"]) c.schema = t["schema"].as<std::string>();
        if (t["schema_file"]) c.schema_file = t["schema_file"].as<std::string>();
        if (t["kind"]) {
          auto k = EventKindFromName(t["kind"].as<std::string>());
          if (!k) return Status::InvalidArgument(p + ".kind: one of none, cdc, login, platform");
          c.kind = *k;
        }
        if (t["weight"]) c.weight = t["weight"].as<double>();
        if (t["firehose_event_bytes"])
          c.firehose_event_bytes = t["firehose_event_bytes"].as<size_t>();
        if (t["firehose"]) c.firehose = t["firehose"].as<bool>();
        if (t["pool_size"]) c.pool_size = t["pool_size"].as<size_t>();
        if (t["can_publish"]) c.can_publish = t["can_publish"].as<bool>();
        if (t["mirror_of"]) c.mirror_of = t["mirror_of"].as<std::vector<std::string>>();
        if (c.schema.empty() && c.schema_file.empty() && c.firehose_event_bytes == 0 &&
            c.mirror_of.empty()) {
          return Status::InvalidArgument(p + ": schema or schema_file required");
        }
        o.topics.push_back(std::move(c));
      }
    }
    if (YAML::Node ms = root["managed_subscriptions"]) {
      o.managed_subscriptions.clear();
      for (size_t i = 0; i < ms.size(); ++i) {
        const std::string p = "emulator.managed_subscriptions[" + std::to_string(i) + "]";
        YAML::Node m = ms[i];
        FP_RETURN_IF_ERROR(CheckKeys(m, p, {"developer_name", "id", "topic", "default_replay"}));
        ManagedSubscription s;
        if (m["developer_name"]) s.developer_name = m["developer_name"].as<std::string>();
        if (m["id"]) s.id = m["id"].as<std::string>();
        if (m["topic"]) s.topic = m["topic"].as<std::string>();
        if (m["default_replay"])
          s.default_earliest = m["default_replay"].as<std::string>() == "EARLIEST";
        o.managed_subscriptions.push_back(std::move(s));
      }
    }
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(path + ": " + e.what());
  } catch (const std::exception& e) {
    return Status::InvalidArgument(path + ": " + e.what());
  }
  return o;
}

}  // namespace forcepipe::emulator
