#pragma once

// Test harness: a PubSubService on a real gRPC server (loopback, port 0, plaintext) with a
// ManualClock, plus client helpers.

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "emulator/event_bus.h"
#include "emulator/pubsub_service.h"
#include "emulator/token_store.h"
#include "emulator/util.h"
#include "salesforce/proto/pubsub_api.grpc.pb.h"

namespace forcepipe::emulator::testing {

inline constexpr char kOrg[] = "00D5e000000TestEAA";

struct Harness {
  explicit Harness(PubSubOptions opts = {}) {
    opts.org_id = kOrg;
    bus = std::make_unique<EventBus>(&clock, std::chrono::hours(72), 7);
    tokens = std::make_unique<TokenStore>(&clock, kOrg, std::chrono::hours(2));
    token = tokens->IssueAccessToken("user@example.com", "005000000000001AAA");
    svc = std::make_unique<PubSubService>(bus.get(), tokens.get(), &clock, opts);
    bus->AddSchema("schemaA", R"({"type":"record","name":"A","fields":[]})");
    bus->AddSchema("schemaB", R"({"type":"record","name":"B","fields":[]})");
    (void)bus->AddTopic("/event/Test__e", "schemaA", {});
    (void)bus->AddTopic("/data/AccountChangeEvent", "schemaA", {});
    grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    b.RegisterService(svc.get());
    server = b.BuildAndStart();
    svc->Start();
    channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                  grpc::InsecureChannelCredentials());
    stub = eventbus::v1::PubSub::NewStub(channel);
  }
  ~Harness() {
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    svc->Stop();
  }

  // Appends `n` events to `topic`; returns their replay ids.
  std::vector<uint64_t> Append(const std::string& topic, int n) {
    std::vector<uint64_t> ids;
    for (int i = 0; i < n; ++i) {
      BusEvent e;
      e.event_id = "ev-" + std::to_string(counter);
      e.schema_id = "schemaA";
      e.payload = "payload-" + std::to_string(counter++);
      ids.push_back(*bus->Append(topic, std::move(e), "test", "x"));
    }
    return ids;
  }

  // Waits (with a deadline) until `n` subscription streams have read their first request.
  bool WaitStarted(int n) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      int started = 0;
      for (const auto& s : svc->Streams()) started += s.started && s.rpc != "PublishStream";
      if (started >= n) return true;
      std::this_thread::yield();
    }
    return false;
  }

  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& tok = "") {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->AddMetadata("accesstoken", tok.empty() ? token : tok);
    ctx->AddMetadata("instanceurl", "https://emulator.my.salesforce.com");
    ctx->AddMetadata("tenantid", kOrg);
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    return ctx;
  }

  ManualClock clock;
  std::unique_ptr<EventBus> bus;
  std::unique_ptr<TokenStore> tokens;
  std::string token;
  std::unique_ptr<PubSubService> svc;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<eventbus::v1::PubSub::Stub> stub;
  int counter = 0;
};

inline eventbus::v1::FetchRequest Fetch(const std::string& topic, int n,
                                        eventbus::v1::ReplayPreset preset = eventbus::v1::LATEST,
                                        std::string replay_id = "") {
  eventbus::v1::FetchRequest r;
  r.set_topic_name(topic);
  r.set_num_requested(n);
  r.set_replay_preset(preset);
  r.set_replay_id(std::move(replay_id));
  return r;
}

inline std::string Trailer(const grpc::ClientContext& ctx, const std::string& key) {
  auto& md = ctx.GetServerTrailingMetadata();
  auto it = md.find(key);
  return it == md.end() ? "" : std::string(it->second.data(), it->second.size());
}

}  // namespace forcepipe::emulator::testing
