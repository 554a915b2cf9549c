// Whole-emulator tests over real gRPC (TLS with the generated self-signed certificate) and
// real HTTPS on loopback port 0: OAuth flows, the admin API, faults, the ledger, firehose.

#include "emulator/emulator.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "avro/decoder.h"
#include "avro/encoder.h"
#include "emulator/http_api.h"
#include "emulator/tls.h"
#include "salesforce/proto/pubsub_api.grpc.pb.h"

namespace forcepipe::emulator {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

// gRPC's default c-ares resolver leaks a few bytes per process when resolving "localhost"
// (reported by LeakSanitizer); the native getaddrinfo resolver does not. Set before main().
const bool kNativeDns = [] { return setenv("GRPC_DNS_RESOLVER", "native", 1) == 0; }();
namespace ev = ::eventbus::v1;

struct Fixture {
  explicit Fixture(EmulatorOptions o = {}, bool plaintext = false) {
    o.clock = &clock;
    o.generate = false;
    o.plaintext = plaintext;
    emu = std::make_unique<Emulator>(o);
    Status st = emu->Start();
    EXPECT_TRUE(st.ok()) << st.ToString();
    const auto& ep = emu->endpoints();
    std::shared_ptr<grpc::ChannelCredentials> creds;
    if (plaintext) {
      creds = grpc::InsecureChannelCredentials();
    } else {
      grpc::SslCredentialsOptions so;
      so.pem_root_certs = *ReadFile(ep.ca_file);
      creds = grpc::SslCredentials(so);
    }
    stub = ev::PubSub::NewStub(grpc::CreateChannel(ep.grpc_endpoint, creds));
    http = std::make_unique<httplib::Client>(ep.http_endpoint);
    if (!plaintext) http->set_ca_cert_path(ep.ca_file.c_str());
  }
  std::unique_ptr<grpc::ClientContext> Ctx(std::string token = "") {
    auto c = std::make_unique<grpc::ClientContext>();
    c->AddMetadata("accesstoken", token.empty() ? emu->endpoints().access_token : token);
    c->AddMetadata("instanceurl", emu->endpoints().instance_url);
    c->AddMetadata("tenantid", emu->endpoints().tenant_id);
    c->set_deadline(std::chrono::system_clock::now() + 20s);
    return c;
  }
  httplib::Headers Admin() const {
    return {{"Authorization", "Bearer " + emu->endpoints().admin_token}};
  }
  json AdminPost(const std::string& path, const json& body, int want = 200) {
    auto r = http->Post(path.c_str(), Admin(), body.dump(), "application/json");
    EXPECT_TRUE(r) << path;
    if (!r) return {};
    EXPECT_EQ(r->status, want) << path << " " << r->body;
    return json::parse(r->body, nullptr, false);
  }
  json AdminGet(const std::string& path) {
    auto r = http->Get(path.c_str(), Admin());
    EXPECT_TRUE(r && r->status == 200) << path;
    return r ? json::parse(r->body, nullptr, false) : json();
  }
  json Token(const std::string& form, int want) {
    auto r = http->Post("/services/oauth2/token", form, "application/x-www-form-urlencoded");
    EXPECT_TRUE(r);
    if (!r) return {};
    EXPECT_EQ(r->status, want) << r->body;
    return json::parse(r->body, nullptr, false);
  }
  std::string TopicSchema(const std::string& topic) {
    ev::TopicRequest req;
    req.set_topic_name(topic);
    ev::TopicInfo info;
    auto ctx = Ctx();
    auto st = stub->GetTopic(ctx.get(), req, &info);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return info.schema_id();
  }

  ManualClock clock;
  std::unique_ptr<Emulator> emu;
  std::unique_ptr<ev::PubSub::Stub> stub;
  std::unique_ptr<httplib::Client> http;
};

std::string Sign(const std::string& key_file, const json& claims) {
  std::string h = Base64UrlEncode(R"({"alg":"RS256"})");
  std::string p = Base64UrlEncode(claims.dump());
  std::string input = h + "." + p;
  std::string pem = *ReadFile(key_file);
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key);
  EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                 input.size());
  std::string sig(len, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                 reinterpret_cast<const unsigned char*>(input.data()), input.size());
  sig.resize(len);
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  return input + "." + Base64UrlEncode(sig);
}

std::string UrlEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[4];
      snprintf(buf, sizeof(buf), "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

TEST(Emulator, StartupJsonNamesEveryEndpointAndTlsWorksWithTheGeneratedCa) {
  Fixture f;
  json j = json::parse(f.emu->StartupJson());
  for (const char* k : {"grpc_endpoint", "http_endpoint", "instance_url", "tenant_id",
                        "access_token", "admin_token", "ca_file"}) {
    ASSERT_TRUE(j.contains(k)) << k;
    EXPECT_FALSE(j[k].get<std::string>().empty()) << k;
  }
  EXPECT_EQ(j["tenant_id"].get<std::string>().size(), 18u);
  EXPECT_EQ(j["instance_url"].get<std::string>().rfind("https://127.0.0.1:", 0), 0u);
  EXPECT_TRUE(std::filesystem::exists(j["ca_file"].get<std::string>()));
  // Default topics with the schema ids of the embedded schemas.
  EXPECT_EQ(f.TopicSchema("/event/Order_Event__e"), "_CADE3qaegX3ECEW0rlbYA");
  EXPECT_FALSE(f.TopicSchema("/data/AccountChangeEvent").empty());
  EXPECT_FALSE(f.TopicSchema("/data/ContactChangeEvent").empty());
  EXPECT_FALSE(f.TopicSchema("/event/LoginEventStream").empty());
  // Also by name (SAN localhost).
  grpc::SslCredentialsOptions so;
  so.pem_root_certs = *ReadFile(f.emu->endpoints().ca_file);
  auto stub = ev::PubSub::NewStub(grpc::CreateChannel(
      "localhost:" + std::to_string(f.emu->endpoints().grpc_port), grpc::SslCredentials(so)));
  ev::TopicRequest req;
  req.set_topic_name("/event/Order_Event__e");
  ev::TopicInfo info;
  auto ctx = f.Ctx();
  EXPECT_TRUE(stub->GetTopic(ctx.get(), req, &info).ok());
  // A client without the CA cannot connect.
  auto untrusting = ev::PubSub::NewStub(grpc::CreateChannel(
      f.emu->endpoints().grpc_endpoint, grpc::SslCredentials(grpc::SslCredentialsOptions())));
  auto ctx2 = f.Ctx();
  ctx2->set_deadline(std::chrono::system_clock::now() + 5s);
  EXPECT_FALSE(untrusting->GetTopic(ctx2.get(), req, &info).ok());
  std::string ca = f.emu->endpoints().ca_file;
  f.emu->Stop();
  EXPECT_FALSE(std::filesystem::exists(ca));  // temp files are removed
}

TEST(Emulator, UsesAGivenCertificateAndKey) {
  auto tls = GenerateSelfSignedCert();
  ASSERT_TRUE(tls.ok());
  auto dir = std::filesystem::temp_directory_path() / ("fp-emu-tls-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "cert.pem") << tls->cert_pem;
  std::ofstream(dir / "key.pem") << tls->key_pem;
  EmulatorOptions o;
  o.tls_cert_file = (dir / "cert.pem").string();
  o.tls_key_file = (dir / "key.pem").string();
  {
    Fixture f(o);
    EXPECT_EQ(f.emu->endpoints().ca_file, o.tls_cert_file);
    EXPECT_EQ(f.TopicSchema("/event/Order_Event__e"), "_CADE3qaegX3ECEW0rlbYA");
    auto r = f.http->Get("/services/data");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
  EXPECT_TRUE(std::filesystem::exists(dir / "cert.pem"));  // given files are left alone
  std::filesystem::remove_all(dir);
}

TEST(OAuth, ClientCredentialsReturnsSalesforceShapeAndAWorkingToken) {
  Fixture f;
  const auto& o = f.emu->options().oauth;
  json j = f.Token("grant_type=client_credentials&client_id=" + UrlEncode(o.client_id) +
                       "&client_secret=" + UrlEncode(o.client_secret),
                   200);
  for (const char* k :
       {"access_token", "instance_url", "id", "token_type", "issued_at", "signature"}) {
    ASSERT_TRUE(j.contains(k) && j[k].is_string()) << k;
  }
  EXPECT_FALSE(j.contains("expires_in"));
  EXPECT_EQ(j["token_type"], "Bearer");
  EXPECT_EQ(j["instance_url"], f.emu->endpoints().instance_url);
  EXPECT_EQ(j["issued_at"], std::to_string(NowMillis(f.clock)));  // ms as a string
  std::string tok = j["access_token"];
  EXPECT_EQ(tok.substr(0, 15), f.emu->endpoints().tenant_id.substr(0, 15));
  EXPECT_EQ(tok.substr(15, 3), "!AQ");
  std::string id = j["id"];
  EXPECT_EQ(id.rfind("https://login.salesforce.com/id/" + f.emu->endpoints().tenant_id + "/005", 0),
            0u);
  // signature = base64(HMAC-SHA256(secret, id + issued_at))
  unsigned char mac[32];
  unsigned int len = 0;
  std::string msg = id + j["issued_at"].get<std::string>();
  HMAC(EVP_sha256(), o.client_secret.data(), static_cast<int>(o.client_secret.size()),
       reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), mac, &len);
  EXPECT_EQ(j["signature"], Base64Encode(std::string(reinterpret_cast<char*>(mac), len)));
  EXPECT_FALSE(f.TopicSchema("/event/Order_Event__e").empty());
  ev::TopicRequest req;
  req.set_topic_name("/event/Order_Event__e");
  ev::TopicInfo info;
  auto ctx = f.Ctx(tok);
  EXPECT_TRUE(f.stub->GetTopic(ctx.get(), req, &info).ok());
  // HTTP Basic works too.
  httplib::Headers basic = {
      {"Authorization", "Basic " + Base64Encode(o.client_id + ":" + o.client_secret)}};
  auto r = f.http->Post("/services/oauth2/token", basic, "grant_type=client_credentials",
                        "application/x-www-form-urlencoded");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST(OAuth, ErrorsUseTheOAuthErrorShape) {
  Fixture f;
  const auto& o = f.emu->options().oauth;
  json bad_secret = f.Token(
      "grant_type=client_credentials&client_id=" + UrlEncode(o.client_id) + "&client_secret=wrong",
      400);
  EXPECT_EQ(bad_secret["error"], "invalid_client");
  EXPECT_TRUE(bad_secret["error_description"].is_string());
  json bad_client = f.Token("grant_type=client_credentials&client_id=nope&client_secret=x", 400);
  EXPECT_EQ(bad_client["error"], "invalid_client_id");
  json bad_pw = f.Token("grant_type=password&client_id=" + UrlEncode(o.client_id) +
                            "&client_secret=" + UrlEncode(o.client_secret) +
                            "&username=" + UrlEncode(o.username) + "&password=wrong",
                        400);
  EXPECT_EQ(bad_pw["error"], "invalid_grant");
  EXPECT_EQ(bad_pw["error_description"], "authentication failure");
  json ok_pw = f.Token("grant_type=password&client_id=" + UrlEncode(o.client_id) +
                           "&client_secret=" + UrlEncode(o.client_secret) + "&username=" +
                           UrlEncode(o.username) + "&password=" + UrlEncode(o.password),
                       200);
  EXPECT_FALSE(ok_pw.contains("refresh_token"));
  json unsupported = f.Token("grant_type=authorization_code", 400);
  EXPECT_EQ(unsupported["error"], "unsupported_grant_type");
}

TEST(OAuth, JwtBearerVerifiesSignatureIssuerAudienceAndExpiry) {
  Fixture f;
  const auto& o = f.emu->options().oauth;
  const std::string key = f.emu->endpoints().jwt_key_file;
  const int64_t now_s = NowMillis(f.clock) / 1000;
  auto grant = [&](const json& claims, const std::string& key_file, int want) {
    return f.Token("grant_type=" + UrlEncode("urn:ietf:params:oauth:grant-type:jwt-bearer") +
                       "&assertion=" + UrlEncode(Sign(key_file, claims)),
                   want);
  };
  json base = {{"iss", o.client_id},
               {"sub", o.username},
               {"aud", "https://login.salesforce.com"},
               {"exp", now_s + 180}};
  json ok = grant(base, key, 200);
  EXPECT_TRUE(ok.contains("access_token"));
  json as_string = base;
  as_string["exp"] = std::to_string(now_s + 180);  // simple-salesforce sends a string
  grant(as_string, key, 200);
  json my_domain = base;
  my_domain["aud"] = f.emu->endpoints().instance_url;
  grant(my_domain, key, 200);
  json bad_aud = base;
  bad_aud["aud"] = "https://evil.example.com";
  EXPECT_EQ(grant(bad_aud, key, 400)["error_description"], "audience is invalid");
  json expired = base;
  expired["exp"] = now_s - 1;
  EXPECT_EQ(grant(expired, key, 400)["error"], "invalid_grant");
  json bad_iss = base;
  bad_iss["iss"] = "someone-else";
  EXPECT_EQ(grant(bad_iss, key, 400)["error"], "invalid_client_id");
  json bad_sub = base;
  bad_sub["sub"] = "stranger@example.com";
  EXPECT_EQ(grant(bad_sub, key, 400)["error"], "invalid_grant");
  // Signed by another key.
  Fixture other;
  EXPECT_EQ(grant(base, other.emu->endpoints().jwt_key_file, 400)["error_description"],
            "invalid assertion");
}

TEST(OAuth, RefreshTokenUserinfoRevocationAndLifetime) {
  Fixture f;
  const auto& o = f.emu->options().oauth;
  json minted = f.AdminPost("/admin/tokens", json::object());
  std::string refresh = minted["refresh_token"];
  json j = f.Token("grant_type=refresh_token&client_id=" + UrlEncode(o.client_id) +
                       "&refresh_token=" + UrlEncode(refresh),
                   200);
  std::string access = j["access_token"];
  auto ui = f.http->Get("/services/oauth2/userinfo", {{"Authorization", "Bearer " + access}});
  ASSERT_TRUE(ui);
  ASSERT_EQ(ui->status, 200);
  json info = json::parse(ui->body);
  EXPECT_EQ(info["organization_id"], f.emu->endpoints().tenant_id);
  EXPECT_EQ(info["preferred_username"], o.username);
  EXPECT_TRUE(info["urls"].contains("rest"));
  auto rv = f.http->Post("/services/oauth2/revoke", "token=" + UrlEncode(access),
                         "application/x-www-form-urlencoded");
  ASSERT_TRUE(rv);
  EXPECT_EQ(rv->status, 200);
  auto ui2 = f.http->Get("/services/oauth2/userinfo", {{"Authorization", "Bearer " + access}});
  ASSERT_TRUE(ui2);
  EXPECT_EQ(ui2->status, 401);
  // Tokens expire after the configured lifetime (default 2h) on the emulator clock.
  f.clock.Advance(2h + 1s);
  ev::TopicRequest req;
  req.set_topic_name("/event/Order_Event__e");
  ev::TopicInfo ti;
  auto ctx = f.Ctx();
  EXPECT_EQ(f.stub->GetTopic(ctx.get(), req, &ti).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST(Admin, RequiresTheAdminBearerToken) {
  Fixture f;
  auto r = f.http->Get("/admin/topics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  auto r2 = f.http->Get("/admin/topics", {{"Authorization", "Bearer wrong"}});
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->status, 401);
  json t = f.AdminGet("/admin/topics");
  EXPECT_EQ(t["topics"].size(), 4u);
}

// Sends `request` as is over a fresh TCP connection to "http://host:port" and returns
// the whole answer (the request asks the server to close the connection).
std::string RawHttp(const std::string& endpoint, const std::string& request) {
  const std::string hostport = endpoint.substr(endpoint.find("//") + 2);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(hostport.substr(hostport.rfind(':') + 1))));
  inet_pton(AF_INET, hostport.substr(0, hostport.rfind(':')).c_str(), &addr.sin_addr);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::send(fd, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size())) {
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof(buf), 0)) > 0;) out.append(buf, n);
  }
  ::close(fd);
  return out;
}

TEST(Admin, PostWithoutABodyOrContentLengthWorks) {
  Fixture f({}, /*plaintext=*/true);
  ASSERT_FALSE(f.emu->generator().paused());
  // As `curl -X POST` sends it: no Content-Length, no body.
  const std::string head = "Host: 127.0.0.1\r\nAuthorization: Bearer " +
                           f.emu->endpoints().admin_token + "\r\nConnection: close\r\n\r\n";
  std::string r =
      RawHttp(f.emu->endpoints().http_endpoint, "POST /admin/generator/pause HTTP/1.1\r\n" + head);
  EXPECT_EQ(r.rfind("HTTP/1.1 200", 0), 0u) << r;
  EXPECT_TRUE(f.emu->generator().paused());
  r = RawHttp(f.emu->endpoints().http_endpoint, "POST /admin/generator/resume HTTP/1.1\r\n" + head);
  EXPECT_EQ(r.rfind("HTTP/1.1 200", 0), 0u) << r;
  EXPECT_FALSE(f.emu->generator().paused());
  // Still guarded: no token, no effect.
  r = RawHttp(f.emu->endpoints().http_endpoint,
              "POST /admin/generator/pause HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 401", 0), 0u) << r;
  EXPECT_FALSE(f.emu->generator().paused());
  // A route that needs its body answers 400 naming what is missing, not a bare refusal.
  r = RawHttp(f.emu->endpoints().http_endpoint, "POST /admin/generator/rate HTTP/1.1\r\n" + head);
  EXPECT_EQ(r.rfind("HTTP/1.1 400", 0), 0u) << r;
  EXPECT_NE(r.find("rate must be a number"), std::string::npos) << r;
}

// Subscribes from EARLIEST and reads `n` events.
std::vector<ev::ConsumerEvent> ReadAll(Fixture& f, const std::string& topic, size_t n) {
  auto ctx = f.Ctx();
  auto s = f.stub->Subscribe(ctx.get());
  ev::FetchRequest req;
  req.set_topic_name(topic);
  req.set_replay_preset(ev::EARLIEST);
  req.set_num_requested(100);
  s->Write(req);
  std::vector<ev::ConsumerEvent> out;
  ev::FetchResponse r;
  while (out.size() < n && s->Read(&r)) {
    for (const auto& e : r.events()) out.push_back(e);
    if (r.pending_num_requested() < 50) {
      ev::FetchRequest more;
      more.set_num_requested(50);
      s->Write(more);
    }
  }
  ctx->TryCancel();
  return out;
}

TEST(Publish, PayloadsAreValidatedAgainstTheirSchemaAndDelivered) {
  Fixture f;
  const std::string schema_id = f.TopicSchema("/event/Order_Event__e");
  auto schema = avro::ParseSchema(*f.emu->bus().SchemaJson(schema_id));
  ASSERT_TRUE(schema.ok());
  std::string good;
  ASSERT_TRUE(avro::Encode(**schema,
                           avro::Value::Record({avro::Value::Long(1700000000000),
                                                avro::Value::String("005000000000001AAA"),
                                                avro::Value::String("ORD-1"), avro::Value::Null(),
                                                avro::Value::Double(12.5)}),
                           &good)
                  .ok());
  ev::PublishRequest req;
  req.set_topic_name("/event/Order_Event__e");
  auto* a = req.add_events();
  a->set_id("good-1");
  a->set_schema_id(schema_id);
  a->set_payload(good);
  auto* b = req.add_events();
  b->set_id("bad-1");
  b->set_schema_id(schema_id);
  b->set_payload(good.substr(0, good.size() - 3));  // truncated
  ev::PublishResponse resp;
  auto ctx = f.Ctx();
  ASSERT_TRUE(f.stub->Publish(ctx.get(), req, &resp).ok());
  ASSERT_EQ(resp.results_size(), 2);
  EXPECT_FALSE(resp.results(0).has_error());
  EXPECT_EQ(resp.results(1).error().code(), ev::PUBLISH);
  auto got = ReadAll(f, "/event/Order_Event__e", 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].event().id(), "good-1");
  EXPECT_EQ(got[0].event().payload(), good);
  EXPECT_EQ(got[0].replay_id(), resp.results(0).replay_id());
}

TEST(Admin, LedgerMatchesEveryDeliveredEvent) {
  Fixture f;
  f.AdminPost("/admin/publish", {{"topic", "/data/AccountChangeEvent"}, {"count", 150}});
  f.AdminPost("/admin/faults/gap",
              {{"topic", "/data/AccountChangeEvent"}, {"change_type", "GAP_OVERFLOW"}});
  f.AdminPost("/admin/faults/undecodable", {{"topic", "/data/AccountChangeEvent"}});
  json ledger = f.AdminGet("/admin/ledger?topic=/data/AccountChangeEvent")["events"];
  ASSERT_EQ(ledger.size(), 152u);
  EXPECT_EQ(ledger[150]["kind"], "GAP_OVERFLOW");
  EXPECT_EQ(ledger[151]["origin"], "undecodable");
  auto got = ReadAll(f, "/data/AccountChangeEvent", 152);
  ASSERT_EQ(got.size(), 152u);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(ledger[i]["event_id"], got[i].event().id());
    EXPECT_EQ(ledger[i]["replay_id"], std::to_string(*DecodeReplayId(got[i].replay_id())));
    EXPECT_EQ(ledger[i]["payload_sha256"], Sha256Hex(got[i].event().payload()));
    EXPECT_EQ(ledger[i]["schema_id"], got[i].event().schema_id());
  }
}

TEST(Admin, SchemaChangeMovesTheTopicToANewVersion) {
  Fixture f;
  std::string before = f.TopicSchema("/data/ContactChangeEvent");
  f.AdminPost("/admin/publish", {{"topic", "/data/ContactChangeEvent"}, {"count", 2}});
  json r = f.AdminPost("/admin/faults/schema-change", {{"topic", "/data/ContactChangeEvent"}});
  std::string after = r["schema_id"];
  EXPECT_NE(after, before);
  EXPECT_EQ(f.TopicSchema("/data/ContactChangeEvent"), after);
  f.AdminPost("/admin/publish", {{"topic", "/data/ContactChangeEvent"}, {"count", 2}});
  auto got = ReadAll(f, "/data/ContactChangeEvent", 4);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[1].event().schema_id(), before);
  EXPECT_EQ(got[2].event().schema_id(), after);
  ev::SchemaRequest sr;
  sr.set_schema_id(after);
  ev::SchemaInfo si;
  auto ctx = f.Ctx();
  ASSERT_TRUE(f.stub->GetSchema(ctx.get(), sr, &si).ok());
  EXPECT_NE(si.schema_json().find("Emulator_Field_1__c"), std::string::npos);
  auto schema = avro::ParseSchema(si.schema_json());
  ASSERT_TRUE(schema.ok());
  EXPECT_EQ(avro::SchemaId(**schema), after);
  auto dec = avro::Decoder::Create(*schema);
  EXPECT_TRUE((*dec)->Decode(got[3].event().payload()).ok());
}

TEST(Admin, FailNextClockAdvanceAndRetention) {
  Fixture f;
  f.AdminPost("/admin/faults/fail-next", {{"rpc", "GetTopic"}, {"fault", "service_unavailable"}});
  ev::TopicRequest req;
  req.set_topic_name("/event/Order_Event__e");
  ev::TopicInfo info;
  auto ctx = f.Ctx();
  auto st = f.stub->GetTopic(ctx.get(), req, &info);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(ctx->GetServerTrailingMetadata().find("error-code")->second,
            "sfdc.platform.eventbus.grpc.service.unavailable");
  f.AdminPost("/admin/faults/fail-next", {{"rpc", "Publish"},
                                          {"grpc_code", "UNAVAILABLE"},
                                          {"error_code", "custom.code"},
                                          {"message", "Nope."}});
  ev::PublishRequest pr;
  pr.set_topic_name("/event/Order_Event__e");
  ev::PublishResponse presp;
  auto ctx2 = f.Ctx();
  st = f.stub->Publish(ctx2.get(), pr, &presp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(st.error_message().rfind("Nope. rpcId: ", 0), 0u);

  json ids = f.AdminPost("/admin/publish",
                         {{"topic", "/event/Order_Event__e"}, {"count", 3}})["replay_ids"];
  f.AdminPost("/admin/clock/advance", {{"by", "73h"}});
  json topics = f.AdminGet("/admin/topics")["topics"];
  for (const auto& t : topics) EXPECT_EQ(t["retained"], 0) << t["topic"];
  // A fresh token (the start-up one expired with the clock jump) and the old replay id.
  f.emu->tokens();
  std::string tok = f.AdminPost("/admin/tokens", json::object())["access_token"];
  auto sctx = f.Ctx(tok);
  auto s = f.stub->Subscribe(sctx.get());
  ev::FetchRequest fr;
  fr.set_topic_name("/event/Order_Event__e");
  fr.set_replay_preset(ev::CUSTOM);
  fr.set_replay_id(EncodeReplayId(std::stoull(ids[0].get<std::string>())));
  fr.set_num_requested(1);
  s->Write(fr);
  ev::FetchResponse resp;
  EXPECT_FALSE(s->Read(&resp));
  EXPECT_EQ(s->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST(Admin, PauseResumeAndRateDriveBackgroundGeneration) {
  ManualClock clock;
  EmulatorOptions o;
  o.clock = &clock;
  o.rate = 500;
  o.plaintext = true;
  Emulator emu(o);
  ASSERT_TRUE(emu.Start().ok());
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (emu.generator().emitted() < 50 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  EXPECT_GE(emu.generator().emitted(), 50u);
  httplib::Client c(emu.endpoints().http_endpoint);
  httplib::Headers h = {{"Authorization", "Bearer " + emu.endpoints().admin_token}};
  ASSERT_EQ(c.Post("/admin/generator/pause", h, "", "application/json")->status, 200);
  json t = json::parse(c.Get("/admin/topics", h)->body);
  EXPECT_TRUE(t["generator"]["paused"].get<bool>());
  ASSERT_EQ(c.Post("/admin/generator/rate", h, R"({"rate": 20})", "application/json")->status, 200);
  ASSERT_EQ(c.Post("/admin/generator/rate", h, R"({"rate": -1})", "application/json")->status, 400);
  EXPECT_EQ(emu.generator().rate(), 20);
  ASSERT_EQ(c.Post("/admin/generator/resume", h, "", "application/json")->status, 200);
  EXPECT_FALSE(emu.generator().paused());
  // Every topic got events, per the generator kinds.
  std::set<std::string> kinds;
  for (const auto& e : emu.bus().Ledger("")) kinds.insert(e.topic);
  EXPECT_EQ(kinds.size(), 4u);
}

TEST(Config, YamlFileConfiguresTopicsFirehoseAndRejectsUnknownKeys) {
  auto dir = std::filesystem::temp_directory_path() / ("fp-emu-cfg-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "ok.yaml") << R"(
seed: 7
rate: 0
keepalive_interval: 5s
retention: 1h
topics:
  - {name: /event/Firehose__e, firehose_event_bytes: 400}
  - {name: /event/Low_Ink__e, schema: Low_Ink__e, kind: platform}
managed_subscriptions:
  - {developer_name: Ink_Sub, topic: /event/Low_Ink__e, default_replay: EARLIEST}
)";
  std::ofstream(dir / "bad.yaml") << "topics:\n  - {name: /x, schema: Y, colour: red}\n";
  auto ok = LoadEmulatorConfig((dir / "ok.yaml").string(), {});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->seed, 7u);
  EXPECT_EQ(ok->pubsub.keepalive_interval, std::chrono::seconds(5));
  EXPECT_EQ(ok->retention, std::chrono::hours(1));
  ASSERT_EQ(ok->topics.size(), 2u);
  auto bad = LoadEmulatorConfig((dir / "bad.yaml").string(), {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("topics[0].colour"), std::string::npos);
  std::filesystem::remove_all(dir);

  // Firehose: contiguous replay ids, ~400-byte payloads that decode with the topic schema.
  Fixture f(*ok, /*plaintext=*/true);
  auto got = ReadAll(f, "/event/Firehose__e", 1000);
  ASSERT_EQ(got.size(), 1000u);
  ev::SchemaRequest sr;
  sr.set_schema_id(got[0].event().schema_id());
  ev::SchemaInfo si;
  auto ctx = f.Ctx();
  ASSERT_TRUE(f.stub->GetSchema(ctx.get(), sr, &si).ok());
  auto dec = avro::Decoder::Create(*avro::ParseSchema(si.schema_json()));
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_NEAR(static_cast<double>(got[i].event().payload().size()), 400, 8);
    if (i > 0) {
      EXPECT_EQ(*DecodeReplayId(got[i].replay_id()), *DecodeReplayId(got[i - 1].replay_id()) + 1);
    }
  }
  EXPECT_TRUE((*dec)->Decode(got[0].event().payload()).ok());
  json subs = f.AdminGet("/admin/managed-subscriptions")["subscriptions"];
  ASSERT_EQ(subs.size(), 1u);
  EXPECT_EQ(subs[0]["developer_name"], "Ink_Sub");
}

TEST(Config, RealisticCdcFirehoseServesGeneratedEventsWithUniqueIdsAndALedger) {
  auto dir = std::filesystem::temp_directory_path() / ("fp-emu-fh-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "fh.yaml") << R"(
topics:
  - {name: /data/AccountChangeEvent, schema: AccountChangeEvent, kind: cdc, firehose: true, pool_size: 64}
)";
  std::ofstream(dir / "nokind.yaml") << "topics:\n  - {name: /data/AccountChangeEvent, schema: "
                                        "AccountChangeEvent, firehose: true}\n";
  auto ok = LoadEmulatorConfig((dir / "fh.yaml").string(), {});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  auto nokind = LoadEmulatorConfig((dir / "nokind.yaml").string(), {});
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(nokind.ok());
  {
    EmulatorOptions o = *nokind;
    o.generate = false;
    Emulator e(o);
    Status st = e.Start();
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.message().find("a firehose needs a kind"), std::string::npos) << st.ToString();
  }

  Fixture f(*ok, /*plaintext=*/true);
  auto got = ReadAll(f, "/data/AccountChangeEvent", 300);  // more than the pool: it wraps
  ASSERT_EQ(got.size(), 300u);
  ev::SchemaRequest sr;
  sr.set_schema_id(got[0].event().schema_id());
  ev::SchemaInfo si;
  auto ctx = f.Ctx();
  ASSERT_TRUE(f.stub->GetSchema(ctx.get(), sr, &si).ok());
  auto dec = avro::Decoder::Create(*avro::ParseSchema(si.schema_json()));
  ASSERT_TRUE(dec.ok());
  std::set<std::string> ids, change_types;
  for (const auto& e : got) {
    const uint64_t replay = *DecodeReplayId(e.replay_id());
    EXPECT_EQ(e.event().id(), FirehoseEventId("/data/AccountChangeEvent", replay));
    ids.insert(e.event().id());
    // A real-shaped CDC event: the header's change type, most fields null.
    std::string j;
    ASSERT_TRUE((*dec)->DecodeToJson(e.event().payload(), &j).ok());
    auto parsed = json::parse(j);
    change_types.insert(parsed["ChangeEventHeader"]["changeType"].get<std::string>());
    size_t nulls = 0;
    for (const auto& [k, val] : parsed.items()) nulls += val.is_null() ? 1 : 0;
    EXPECT_GT(nulls, 20u) << j.substr(0, 300);
  }
  EXPECT_EQ(ids.size(), 300u) << "firehose event ids repeat";
  EXPECT_TRUE(change_types.count("UPDATE")) << "no UPDATE in the pool";
  // The ledger holds what was served (the stream may have served ahead of what this
  // client read): replay ids 1..N with their ids, every event read among them.
  json ledger = f.AdminGet("/admin/ledger?topic=/data/AccountChangeEvent")["events"];
  std::set<std::string> ledgered;
  for (const auto& e : ledger) {
    ledgered.insert(e["event_id"].get<std::string>());
    EXPECT_EQ(e["origin"], "firehose");
  }
  ASSERT_GE(ledgered.size(), ids.size());
  for (uint64_t r = 1; r <= ledgered.size(); ++r) {
    EXPECT_TRUE(ledgered.count(FirehoseEventId("/data/AccountChangeEvent", r))) << r;
  }
  for (const auto& id : ids) EXPECT_TRUE(ledgered.count(id)) << id << " read but not ledgered";
}

TEST(Config, MirrorTopicCarriesEveryObjectsChangeEventsWithMixedSchemas) {
  EmulatorOptions o;
  o.topics = DefaultTopics();
  TopicConfig all;
  all.name = "/data/ChangeEvents";
  all.mirror_of = {"/data/AccountChangeEvent", "/data/ContactChangeEvent"};
  o.topics.push_back(all);
  Fixture f(o, /*plaintext=*/true);
  f.AdminPost("/admin/publish", {{"topic", "/data/AccountChangeEvent"}, {"count", 3}});
  f.AdminPost("/admin/publish", {{"topic", "/data/ContactChangeEvent"}, {"count", 2}});
  f.AdminPost("/admin/publish", {{"topic", "/data/AccountChangeEvent"}, {"count", 1}});
  EXPECT_EQ(f.TopicSchema("/data/ChangeEvents"), f.TopicSchema("/data/AccountChangeEvent"));
  auto got = ReadAll(f, "/data/ChangeEvents", 6);
  ASSERT_EQ(got.size(), 6u);
  std::set<std::string> schemas;
  for (const auto& e : got) schemas.insert(e.event().schema_id());
  EXPECT_EQ(schemas, (std::set<std::string>{f.TopicSchema("/data/AccountChangeEvent"),
                                            f.TopicSchema("/data/ContactChangeEvent")}));
  json ledger = f.AdminGet("/admin/ledger?topic=/data/ChangeEvents")["events"];
  json acc = f.AdminGet("/admin/ledger?topic=/data/AccountChangeEvent")["events"];
  ASSERT_EQ(ledger.size(), 6u);
  EXPECT_EQ(ledger[0]["origin"], "mirror");
  EXPECT_EQ(ledger[0]["event_id"], acc[0]["event_id"]);
  EXPECT_EQ(ledger[5]["event_id"], acc[3]["event_id"]);
  EXPECT_EQ(got[5].event().id(), acc[3]["event_id"]);
}

TEST(Http, FormParsingAndHostPort) {
  auto form = ParseForm("a=1&b=x%2By+z&c=&d");
  EXPECT_EQ(form.find("a")->second, "1");
  EXPECT_EQ(form.find("b")->second, "x+y z");
  EXPECT_EQ(form.find("c")->second, "");
  EXPECT_EQ(form.count("d"), 1u);
  auto hp = SplitHostPort("[::1]:8080");
  ASSERT_TRUE(hp.ok());
  EXPECT_EQ(hp->first, "::1");
  EXPECT_EQ(hp->second, 8080);
  EXPECT_FALSE(SplitHostPort("nope").ok());
}

}  // namespace
}  // namespace forcepipe::emulator
