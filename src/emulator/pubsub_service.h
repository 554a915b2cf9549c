#pragma once

// PubSubService: the emulator's implementation of gRPC `eventbus.v1.PubSub` (callback API).
//
// Behaviour follows /work/shared/docs/spec-pubsub.md:
// - Subscribe: topic/preset/replay id from the first FetchRequest only (a different topic
//   later is INVALID_ARGUMENT); num_requested additive, capped at 100 outstanding, <= 0
//   rejected; `pending_num_requested` in every response; LATEST/EARLIEST/CUSTOM (strictly
//   after); keepalive (empty response carrying latest_replay_id) every keepalive_interval
//   while events are owed but none available; idle close after idle_timeout with nothing
//   owed and no request.
// - Errors carry trailers `error-code`, `rpc-id`, `type` and details ending `rpcId: <uuid>`.
// - Auth headers accesstoken/instanceurl/tenantid are matched case-insensitively.
// - Publish / PublishStream: one result per event in order; 1 MB per event (per-event
//   PUBLISH error); requests above gRPC's 4 MB receive limit fail (RESOURCE_EXHAUSTED).
// - ManagedSubscribe: server-side committed positions per managed subscription.
//
// Timers (keepalive, idle close) are measured on the injected clock's SteadyNow() and
// checked by one ticker thread every `tick` of real time, so tests can drive them with a
// ManualClock instead of waiting.
//
// Threads: gRPC callback threads run the reactors; one ticker thread (Start/Stop).
// Thread safety: all public methods are safe for concurrent use.
// Lifecycle: construct, register with a grpc::ServerBuilder, Start(); on shutdown call
// grpc::Server::Shutdown() (which ends all streams) and then Stop() before destruction.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "emulator/event_bus.h"
#include "emulator/token_store.h"
#include "salesforce/proto/pubsub_api.grpc.pb.h"

namespace forcepipe::emulator {

struct PubSubOptions {
  std::string org_id;  // 18-char tenant id expected in the `tenantid` header
  Duration keepalive_interval = std::chrono::seconds(270);
  Duration idle_timeout = std::chrono::seconds(60);
  Duration publish_stream_idle_timeout = std::chrono::seconds(70);
  int max_outstanding = 100;  // credit cap per stream
  size_t max_events_per_response = 50;
  size_t max_response_bytes = 3 * 1024 * 1024;
  size_t max_event_bytes = 1024 * 1024;
  int max_streams_per_connection = 100;
  std::chrono::milliseconds tick{5};  // real-time period of the timer check
};

// An RPC that faults can be injected into.
enum class Rpc { kSubscribe, kGetTopic, kGetSchema, kPublish, kPublishStream, kManagedSubscribe };
std::optional<Rpc> RpcFromName(std::string_view name);  // "Subscribe", "GetSchema", ...
std::string_view RpcName(Rpc rpc);

// An error as Salesforce reports it: gRPC status code, `error-code` trailer and details
// text (the server appends " rpcId: <uuid>").
struct RpcError {
  grpc::StatusCode code = grpc::StatusCode::INTERNAL;
  std::string error_code;  // full code, e.g. "sfdc.platform.eventbus.grpc.service.auth.error"
  std::string message;     // without the rpcId suffix

  static RpcError Auth();
  static RpcError ServiceUnavailable();
  static RpcError ClientLimit();
  static RpcError ReplayIdCorrupted();
  static RpcError ReplayIdMalformed();
  static RpcError TopicNotFound(const std::string& org_id, const std::string& topic);
  static RpcError BadNumRequested();
  static RpcError TopicMismatch();
  static RpcError SchemaNotFound(const std::string& schema_id);
  static RpcError SubscriptionNotFound(const std::string& name);
  // A named fault for the admin API: auth, service_unavailable, client_limit,
  // replay_corrupted, topic_not_found. nullopt for unknown names.
  static std::optional<RpcError> Named(std::string_view name);
};

struct ManagedSubscription {
  std::string id;              // e.g. "0Xm..." record id
  std::string developer_name;  // e.g. "Managed_Account_Sub"
  std::string topic;
  bool default_earliest = false;  // default replay when nothing committed: EARLIEST or LATEST
  std::optional<uint64_t> committed;
  bool active = false;
};

// A live stream as seen by the admin API and tests.
struct StreamInfo {
  std::string rpc;    // "Subscribe", "ManagedSubscribe", "PublishStream"
  std::string topic;  // "" until the first request was read
  bool started = false;
  int pending = 0;      // credits still owed
  uint64_t cursor = 0;  // last replay id delivered (or the start position)
  bool stalled = false;
};

// Finds header `name` in gRPC metadata, comparing keys case-insensitively.
std::optional<std::string> FindHeader(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata, std::string_view name);

class PubSubService final : public eventbus::v1::PubSub::CallbackService {
 public:
  // `bus`, `tokens`, `clock` must outlive the service.
  PubSubService(EventBus* bus, TokenStore* tokens, Clock* clock, PubSubOptions options);
  ~PubSubService() override;

  void Start();  // starts the ticker thread
  void Stop();   // joins the ticker; REQUIRES: the grpc::Server is shut down

  // Fault injection.
  void FailNext(Rpc rpc, RpcError error);  // the next call of `rpc` fails with `error`
  // Ends every live Subscribe/ManagedSubscribe stream on `topic` ("" = all) with
  // UNAVAILABLE "RST_STREAM closed stream". Returns how many.
  int ResetStreams(const std::string& topic);
  // Stalls (or un-stalls) streams on `topic` ("" = all): nothing, not even keepalives, is
  // sent. Returns how many.
  int StallStreams(const std::string& topic, bool stall);

  Status AddManagedSubscription(ManagedSubscription sub);
  std::vector<ManagedSubscription> ManagedSubscriptions() const;
  int ActiveSubscribeStreams() const;
  std::vector<StreamInfo> Streams();
  // Checks each published payload against its schema id; a non-OK status becomes a
  // per-event PUBLISH error carrying the status message. Unset: payloads are not checked.
  void SetPayloadValidator(
      std::function<Status(const std::string& schema_id, std::string_view payload)> validator);
  void SetKeepaliveInterval(Duration d);

  // gRPC methods.
  grpc::ServerBidiReactor<eventbus::v1::FetchRequest, eventbus::v1::FetchResponse>* Subscribe(
      grpc::CallbackServerContext* ctx) override;
  grpc::ServerUnaryReactor* GetSchema(grpc::CallbackServerContext* ctx,
                                      const eventbus::v1::SchemaRequest* req,
                                      eventbus::v1::SchemaInfo* resp) override;
  grpc::ServerUnaryReactor* GetTopic(grpc::CallbackServerContext* ctx,
                                     const eventbus::v1::TopicRequest* req,
                                     eventbus::v1::TopicInfo* resp) override;
  grpc::ServerUnaryReactor* Publish(grpc::CallbackServerContext* ctx,
                                    const eventbus::v1::PublishRequest* req,
                                    eventbus::v1::PublishResponse* resp) override;
  grpc::ServerBidiReactor<eventbus::v1::PublishRequest, eventbus::v1::PublishResponse>*
  PublishStream(grpc::CallbackServerContext* ctx) override;
  grpc::ServerBidiReactor<eventbus::v1::ManagedFetchRequest, eventbus::v1::ManagedFetchResponse>*
  ManagedSubscribe(grpc::CallbackServerContext* ctx) override;

  // Internal plumbing for the stream reactors (public so the .cc's classes can use it).
  class StreamBase;
  grpc::Status MakeError(grpc::CallbackServerContext* ctx, Rpc rpc, const RpcError& e);
  // Auth + injected fault check common to every RPC; OK to proceed.
  grpc::Status Admit(grpc::CallbackServerContext* ctx, Rpc rpc);
  // Publishes one request's events; fills `resp`.
  void DoPublish(const std::string& topic, const eventbus::v1::PublishRequest& req,
                 eventbus::v1::PublishResponse* resp);
  void Register(StreamBase* s);
  void Unregister(StreamBase* s);
  bool AcquireConnectionSlot(const std::string& peer);
  void ReleaseConnectionSlot(const std::string& peer);
  ManagedSubscription* FindManagedLocked(const std::string& id, const std::string& name);
  std::mutex& managed_mu() const { return managed_mu_; }
  EventBus* bus() const { return bus_; }
  Clock* clock() const { return clock_; }
  const PubSubOptions& options() const { return options_; }
  Duration keepalive_interval() const { return Duration(keepalive_ns_.load()); }

 private:
  void ForEachStream(const std::function<void(StreamBase*)>& fn);
  void TickerLoop();

  EventBus* bus_;
  TokenStore* tokens_;
  Clock* clock_;
  const PubSubOptions options_;
  std::atomic<int64_t> keepalive_ns_;

  std::mutex validator_mu_;
  std::function<Status(const std::string&, std::string_view)> validator_;

  std::mutex faults_mu_;
  std::map<Rpc, std::vector<RpcError>> faults_;

  mutable std::mutex streams_mu_;
  std::set<StreamBase*> streams_;
  std::map<std::string, int> per_peer_;

  mutable std::mutex managed_mu_;
  std::vector<ManagedSubscription> managed_;

  std::mutex ticker_mu_;
  std::condition_variable ticker_cv_;
  bool stop_ = false;
  std::thread ticker_;
};

}  // namespace forcepipe::emulator
