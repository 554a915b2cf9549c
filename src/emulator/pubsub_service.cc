#include "emulator/pubsub_service.h"

#include <algorithm>
#include <cctype>
#include <deque>

#include "emulator/util.h"

namespace forcepipe::emulator {

namespace ev = ::eventbus::v1;

namespace {
constexpr char kPrefix[] = "sfdc.platform.eventbus.grpc.";

std::string Code(std::string_view suffix) { return std::string(kPrefix) + std::string(suffix); }

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}
}  // namespace

// ---------------------------------------------------------------------------------------
// Errors

RpcError RpcError::Auth() {
  return {grpc::StatusCode::UNAUTHENTICATED, Code("service.auth.error"),
          "An authentication exception occurred. Provide valid authentication via metadata "
          "headers."};
}
RpcError RpcError::ServiceUnavailable() {
  return {grpc::StatusCode::INTERNAL, Code("service.unavailable"),
          "The service is unavailable. Try again later."};
}
RpcError RpcError::ClientLimit() {
  return {grpc::StatusCode::RESOURCE_EXHAUSTED, Code("concurrent.client.limit.exceeded"),
          "The number of concurrent clients exceeded the limit for this subscription."};
}
RpcError RpcError::ReplayIdCorrupted() {
  return {grpc::StatusCode::INVALID_ARGUMENT, Code("subscription.fetch.replayid.corrupted"),
          "The Replay ID validation failed. Ensure that the Replay ID is valid and within the "
          "retention window."};
}
RpcError RpcError::ReplayIdMalformed() {
  return {grpc::StatusCode::INVALID_ARGUMENT, Code("fetch.replayid.validation.failed"),
          "The Replay ID is malformed. Replay IDs are opaque bytes returned by the server."};
}
RpcError RpcError::TopicNotFound(const std::string& org_id, const std::string& topic) {
  return {grpc::StatusCode::NOT_FOUND, Code("topic.notfound"),
          "The topic information for org CORE/prod/" + org_id + " and topic " + topic +
              " not found. Ensure the topic name is correct and that the topic exists."};
}
RpcError RpcError::BadNumRequested() {
  return {grpc::StatusCode::INVALID_ARGUMENT, Code("fetch.requested.events.invalid"),
          "The number of requested events must be greater than zero."};
}
RpcError RpcError::TopicMismatch() {
  return {grpc::StatusCode::INVALID_ARGUMENT, Code("subscription.fetch.topic.mismatch"),
          "The topic name in a subsequent FetchRequest must match the first request's topic."};
}
RpcError RpcError::SchemaNotFound(const std::string& schema_id) {
  return {grpc::StatusCode::NOT_FOUND, Code("schema.notfound"),
          "The schema with ID " + schema_id + " was not found."};
}
RpcError RpcError::SubscriptionNotFound(const std::string& name) {
  return {grpc::StatusCode::NOT_FOUND, Code("managed.subscription.notfound"),
          "The managed subscription " + name + " was not found."};
}

std::optional<RpcError> RpcError::Named(std::string_view name) {
  if (name == "auth") return Auth();
  if (name == "service_unavailable") return ServiceUnavailable();
  if (name == "client_limit") return ClientLimit();
  if (name == "replay_corrupted") return ReplayIdCorrupted();
  if (name == "topic_not_found") return TopicNotFound("00D000000000000AAA", "(injected)");
  return std::nullopt;
}

std::optional<Rpc> RpcFromName(std::string_view name) {
  if (name == "Subscribe") return Rpc::kSubscribe;
  if (name == "GetTopic") return Rpc::kGetTopic;
  if (name == "GetSchema") return Rpc::kGetSchema;
  if (name == "Publish") return Rpc::kPublish;
  if (name == "PublishStream") return Rpc::kPublishStream;
  if (name == "ManagedSubscribe") return Rpc::kManagedSubscribe;
  return std::nullopt;
}

std::string_view RpcName(Rpc rpc) {
  switch (rpc) {
    case Rpc::kSubscribe:
      return "Subscribe";
    case Rpc::kGetTopic:
      return "GetTopic";
    case Rpc::kGetSchema:
      return "GetSchema";
    case Rpc::kPublish:
      return "Publish";
    case Rpc::kPublishStream:
      return "PublishStream";
    case Rpc::kManagedSubscribe:
      return "ManagedSubscribe";
  }
  return "?";
}

std::optional<std::string> FindHeader(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata, std::string_view name) {
  for (const auto& [k, v] : metadata) {
    if (IEquals(std::string_view(k.data(), k.size()), name)) return std::string(v.data(), v.size());
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------
// Stream plumbing

class PubSubService::StreamBase {
 public:
  virtual ~StreamBase() = default;
  // Re-evaluates timers and availability; may write or finish.
  virtual void Poke() = 0;
  virtual const std::string& topic() const = 0;
  virtual bool is_subscription() const { return false; }
  virtual void Reset() {}
  virtual void Stall(bool) {}
  virtual StreamInfo Describe() = 0;

  void Ref() { refs_.fetch_add(1); }
  void Unref() {
    if (refs_.fetch_sub(1) == 1) delete this;
  }

 private:
  std::atomic<int> refs_{1};  // 1 = held by gRPC until OnDone
};

PubSubService::PubSubService(EventBus* bus, TokenStore* tokens, Clock* clock, PubSubOptions options)
    : bus_(bus),
      tokens_(tokens),
      clock_(clock),
      options_(std::move(options)),
      keepalive_ns_(options_.keepalive_interval.count()) {
  bus_->SetAppendListener([this](const std::string& topic) {
    ForEachStream([&](StreamBase* s) {
      if (s->is_subscription() && s->topic() == topic) s->Poke();
    });
  });
}

PubSubService::~PubSubService() {
  bus_->SetAppendListener(nullptr);
  Stop();
}

void PubSubService::Start() {
  std::lock_guard g(ticker_mu_);
  if (ticker_.joinable()) return;
  stop_ = false;
  ticker_ = std::thread([this] { TickerLoop(); });
}

void PubSubService::Stop() {
  {
    std::lock_guard g(ticker_mu_);
    stop_ = true;
  }
  ticker_cv_.notify_all();
  if (ticker_.joinable()) ticker_.join();
}

void PubSubService::TickerLoop() {
  std::unique_lock l(ticker_mu_);
  while (!stop_) {
    ticker_cv_.wait_for(l, options_.tick, [&] { return stop_; });
    if (stop_) break;
    l.unlock();
    ForEachStream([](StreamBase* s) { s->Poke(); });
    l.lock();
  }
}

void PubSubService::ForEachStream(const std::function<void(StreamBase*)>& fn) {
  std::vector<StreamBase*> snapshot;
  {
    std::lock_guard g(streams_mu_);
    snapshot.reserve(streams_.size());
    for (StreamBase* s : streams_) {
      s->Ref();
      snapshot.push_back(s);
    }
  }
  for (StreamBase* s : snapshot) fn(s);
  for (StreamBase* s : snapshot) s->Unref();
}

void PubSubService::Register(StreamBase* s) {
  std::lock_guard g(streams_mu_);
  streams_.insert(s);
}

void PubSubService::Unregister(StreamBase* s) {
  std::lock_guard g(streams_mu_);
  streams_.erase(s);
}

bool PubSubService::AcquireConnectionSlot(const std::string& peer) {
  std::lock_guard g(streams_mu_);
  int& n = per_peer_[peer];
  if (n >= options_.max_streams_per_connection) {
    if (n == 0) per_peer_.erase(peer);
    return false;
  }
  ++n;
  return true;
}

void PubSubService::ReleaseConnectionSlot(const std::string& peer) {
  std::lock_guard g(streams_mu_);
  auto it = per_peer_.find(peer);
  if (it != per_peer_.end() && --it->second <= 0) per_peer_.erase(it);
}

std::vector<StreamInfo> PubSubService::Streams() {
  std::vector<StreamInfo> out;
  ForEachStream([&](StreamBase* s) { out.push_back(s->Describe()); });
  return out;
}

int PubSubService::ActiveSubscribeStreams() const {
  std::lock_guard g(streams_mu_);
  int n = 0;
  for (StreamBase* s : streams_) n += s->is_subscription() ? 1 : 0;
  return n;
}

void PubSubService::SetPayloadValidator(
    std::function<Status(const std::string&, std::string_view)> validator) {
  std::lock_guard g(validator_mu_);
  validator_ = std::move(validator);
}

void PubSubService::SetKeepaliveInterval(Duration d) { keepalive_ns_.store(d.count()); }

void PubSubService::FailNext(Rpc rpc, RpcError error) {
  std::lock_guard g(faults_mu_);
  faults_[rpc].push_back(std::move(error));
}

int PubSubService::ResetStreams(const std::string& topic) {
  int n = 0;
  ForEachStream([&](StreamBase* s) {
    if (s->is_subscription() && (topic.empty() || s->topic() == topic)) {
      s->Reset();
      ++n;
    }
  });
  return n;
}

int PubSubService::StallStreams(const std::string& topic, bool stall) {
  int n = 0;
  ForEachStream([&](StreamBase* s) {
    if (s->is_subscription() && (topic.empty() || s->topic() == topic)) {
      s->Stall(stall);
      ++n;
    }
  });
  return n;
}

Status PubSubService::AddManagedSubscription(ManagedSubscription sub) {
  if (!bus_->HasTopic(sub.topic)) return Status::NotFound("unknown topic " + sub.topic);
  std::lock_guard g(managed_mu_);
  for (const auto& m : managed_) {
    if ((!sub.id.empty() && m.id == sub.id) ||
        (!sub.developer_name.empty() && m.developer_name == sub.developer_name)) {
      return Status::AlreadyExists("managed subscription exists: " + sub.developer_name);
    }
  }
  sub.active = false;
  if (sub.id.empty()) sub.id = "0Xm" + std::to_string(100000000000000 + managed_.size());
  managed_.push_back(std::move(sub));
  return Status::Ok();
}

std::vector<ManagedSubscription> PubSubService::ManagedSubscriptions() const {
  std::lock_guard g(managed_mu_);
  return managed_;
}

ManagedSubscription* PubSubService::FindManagedLocked(const std::string& id,
                                                      const std::string& name) {
  for (auto& m : managed_) {
    if ((!id.empty() && m.id == id) || (id.empty() && !name.empty() && m.developer_name == name)) {
      return &m;
    }
  }
  return nullptr;
}

grpc::Status PubSubService::MakeError(grpc::CallbackServerContext* ctx, Rpc rpc,
                                      const RpcError& e) {
  std::string rpc_id = RandomUuid();
  ctx->AddTrailingMetadata("error-code", e.error_code);
  ctx->AddTrailingMetadata("rpc-id", rpc_id);
  ctx->AddTrailingMetadata("type", std::string(RpcName(rpc)));
  return grpc::Status(e.code, e.message + " rpcId: " + rpc_id);
}

grpc::Status PubSubService::Admit(grpc::CallbackServerContext* ctx, Rpc rpc) {
  const auto& md = ctx->client_metadata();
  auto token = FindHeader(md, "accesstoken");
  auto tenant = FindHeader(md, "tenantid");
  bool ok = token && tenant && tokens_->CheckAccess(*token).has_value();
  if (ok) {
    // Accept the 18-char org id or its 15-char prefix.
    const std::string& org = options_.org_id;
    ok = *tenant == org || (tenant->size() == 15 && org.compare(0, 15, *tenant) == 0);
  }
  if (!ok) return MakeError(ctx, rpc, RpcError::Auth());
  std::optional<RpcError> fault;
  {
    std::lock_guard g(faults_mu_);
    auto it = faults_.find(rpc);
    if (it != faults_.end() && !it->second.empty()) {
      fault = std::move(it->second.front());
      it->second.erase(it->second.begin());
    }
  }
  if (fault) return MakeError(ctx, rpc, *fault);
  return grpc::Status::OK;
}

// ---------------------------------------------------------------------------------------
// Subscribe / ManagedSubscribe

namespace {

template <bool kManaged>
struct FetchTypes;
template <>
struct FetchTypes<false> {
  using Req = ev::FetchRequest;
  using Resp = ev::FetchResponse;
  static constexpr Rpc kRpc = Rpc::kSubscribe;
};
template <>
struct FetchTypes<true> {
  using Req = ev::ManagedFetchRequest;
  using Resp = ev::ManagedFetchResponse;
  static constexpr Rpc kRpc = Rpc::kManagedSubscribe;
};

template <bool kManaged>
class FetchStream final : public PubSubService::StreamBase,
                          public grpc::ServerBidiReactor<typename FetchTypes<kManaged>::Req,
                                                         typename FetchTypes<kManaged>::Resp> {
  using Req = typename FetchTypes<kManaged>::Req;
  using Resp = typename FetchTypes<kManaged>::Resp;
  static constexpr Rpc kRpc = FetchTypes<kManaged>::kRpc;

 public:
  FetchStream(PubSubService* svc, grpc::CallbackServerContext* ctx) : svc_(svc), ctx_(ctx) {
    svc_->Register(this);
    grpc::Status st = svc_->Admit(ctx_, kRpc);
    if (!st.ok()) {
      FinishOnce(st);
      return;
    }
    peer_ = ctx_->peer();
    if (!svc_->AcquireConnectionSlot(peer_)) {
      FinishOnce(svc_->MakeError(ctx_, kRpc, RpcError::ClientLimit()));
      return;
    }
    has_slot_ = true;
    const auto now = svc_->clock()->SteadyNow();
    last_request_ = last_send_ = zero_since_ = now;
    this->StartRead(&req_);
  }

  const std::string& topic() const override { return topic_; }
  bool is_subscription() const override { return true; }
  StreamInfo Describe() override {
    std::lock_guard g(mu_);
    return StreamInfo{std::string(RpcName(kRpc)), topic_, started_, credits_, cursor_, stalled_};
  }

  void Reset() override {
    FinishOnce(grpc::Status(grpc::StatusCode::UNAVAILABLE, "RST_STREAM closed stream"));
  }
  void Stall(bool stall) override {
    {
      std::lock_guard g(mu_);
      stalled_ = stall;
    }
    if (!stall) Poke();
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // Client half-closed or went away: keep serving what is owed until idle close.
      std::lock_guard g(mu_);
      reads_done_ = true;
      if (!started_) {
        pending_finish_ = grpc::Status::OK;
      }
    } else {
      std::optional<grpc::Status> error = HandleRequest(req_);
      if (error) {
        FinishOnce(*error);
        return;
      }
      this->StartRead(&req_);
    }
    Poke();
  }

  void OnWriteDone(bool ok) override {
    {
      std::lock_guard g(mu_);
      write_in_flight_ = false;
      if (!ok && !pending_finish_) pending_finish_ = grpc::Status::CANCELLED;
    }
    Poke();
  }

  void OnCancel() override { FinishOnce(grpc::Status::CANCELLED); }

  void OnDone() override {
    if (has_slot_) svc_->ReleaseConnectionSlot(peer_);
    if constexpr (kManaged) {
      if (managed_bound_) {
        std::lock_guard g(svc_->managed_mu());
        if (auto* m = svc_->FindManagedLocked(managed_id_, "")) m->active = false;
      }
    }
    svc_->Unregister(this);
    Unref();
  }

  void Poke() override {
    std::unique_lock l(mu_);
    if (finish_called_ || write_in_flight_) return;
    if (pending_finish_) {
      grpc::Status st = *pending_finish_;
      finish_called_ = true;
      l.unlock();
      this->Finish(st);
      return;
    }
    if (!started_ || stalled_) return;
    const auto now = svc_->clock()->SteadyNow();
    resp_.Clear();
    size_t n = 0;
    if (credits_ > 0) {
      const auto& opts = svc_->options();
      uint64_t last = cursor_;
      n = svc_->bus()->Read(
          topic_, cursor_,
          std::min<size_t>(static_cast<size_t>(credits_), opts.max_events_per_response),
          opts.max_response_bytes, [&](const BusEvent& e) {
            ev::ConsumerEvent* ce = resp_.add_events();
            ev::ProducerEvent* pe = ce->mutable_event();
            pe->set_id(e.event_id);
            pe->set_schema_id(e.schema_id);
            pe->set_payload(e.payload);
            for (const auto& [k, v] : e.headers) {
              auto* h = pe->add_headers();
              h->set_key(k);
              h->set_value(v);
            }
            ce->set_replay_id(EncodeReplayId(e.replay_id));
            last = e.replay_id;
          });
      if (n > 0) {
        credits_ -= static_cast<int>(n);
        cursor_ = last;
      }
    }
    bool send = n > 0;
    if constexpr (kManaged) {
      if (!commit_responses_.empty()) {
        *resp_.mutable_commit_response() = std::move(commit_responses_.front());
        commit_responses_.pop_front();
        send = true;
      }
    }
    if (!send && credits_ > 0 && now - last_send_ >= svc_->keepalive_interval()) {
      send = true;  // keepalive
    }
    if (!send) {
      if (credits_ == 0 &&
          now - std::max(last_request_, zero_since_) >= svc_->options().idle_timeout) {
        finish_called_ = true;
        l.unlock();
        this->Finish(grpc::Status::OK);
      }
      return;
    }
    resp_.set_latest_replay_id(EncodeReplayId(std::max(svc_->bus()->Tip(topic_), cursor_)));
    resp_.set_rpc_id(RandomUuid());
    resp_.set_pending_num_requested(credits_);
    last_send_ = now;
    if (credits_ == 0 && n > 0) zero_since_ = now;
    write_in_flight_ = true;
    l.unlock();
    this->StartWrite(&resp_);
  }

 private:
  // Returns an error status to finish with, or nullopt.
  std::optional<grpc::Status> HandleRequest(const Req& req) {
    std::unique_lock l(mu_);
    const auto now = svc_->clock()->SteadyNow();
    if (!started_) {
      auto st = Start(req);
      if (st) return st;
      started_ = true;
    } else if constexpr (!kManaged) {
      if (!req.topic_name().empty() && req.topic_name() != topic_) {
        return svc_->MakeError(ctx_, kRpc, RpcError::TopicMismatch());
      }
    }
    int n = req.num_requested();
    if constexpr (kManaged) {
      if (req.has_commit_replay_id_request()) {
        HandleCommitLocked(req.commit_replay_id_request());
        if (n < 0) return svc_->MakeError(ctx_, kRpc, RpcError::BadNumRequested());
      } else if (n <= 0) {
        return svc_->MakeError(ctx_, kRpc, RpcError::BadNumRequested());
      }
    } else {
      if (n <= 0) return svc_->MakeError(ctx_, kRpc, RpcError::BadNumRequested());
    }
    const int cap = svc_->options().max_outstanding;
    credits_ = static_cast<int>(std::min<int64_t>(cap, int64_t{credits_} + n));
    last_request_ = now;
    return std::nullopt;
  }

  // Reads topic and start position from the first request. REQUIRES: mu_ held.
  std::optional<grpc::Status> Start(const Req& req) {
    EventBus* bus = svc_->bus();
    if constexpr (kManaged) {
      std::lock_guard g(svc_->managed_mu());
      ManagedSubscription* m = svc_->FindManagedLocked(req.subscription_id(), req.developer_name());
      if (!m) {
        return svc_->MakeError(
            ctx_, kRpc,
            RpcError::SubscriptionNotFound(req.subscription_id().empty() ? req.developer_name()
                                                                         : req.subscription_id()));
      }
      if (m->active) return svc_->MakeError(ctx_, kRpc, RpcError::ClientLimit());
      m->active = true;
      managed_bound_ = true;
      managed_id_ = m->id;
      topic_ = m->topic;
      if (m->committed && bus->IsValidResumePoint(topic_, *m->committed)) {
        cursor_ = *m->committed;
      } else {
        cursor_ = m->default_earliest ? bus->EarliestCursor(topic_) : bus->Tip(topic_);
      }
      return std::nullopt;
    } else {
      topic_ = req.topic_name();
      if (topic_.empty() || !bus->HasTopic(topic_)) {
        return svc_->MakeError(ctx_, kRpc, RpcError::TopicNotFound(svc_->options().org_id, topic_));
      }
      auto settings = bus->Settings(topic_);
      if (!settings.ok() || !settings->can_subscribe) {
        return svc_->MakeError(ctx_, kRpc, RpcError::TopicNotFound(svc_->options().org_id, topic_));
      }
      switch (req.replay_preset()) {
        case ev::EARLIEST:
          cursor_ = bus->EarliestCursor(topic_);
          break;
        case ev::CUSTOM: {
          auto id = DecodeReplayId(req.replay_id());
          if (!id) return svc_->MakeError(ctx_, kRpc, RpcError::ReplayIdMalformed());
          if (!bus->IsValidResumePoint(topic_, *id)) {
            return svc_->MakeError(ctx_, kRpc, RpcError::ReplayIdCorrupted());
          }
          cursor_ = *id;
          break;
        }
        default:
          cursor_ = bus->Tip(topic_);
          break;
      }
      return std::nullopt;
    }
  }

  void HandleCommitLocked(const ev::CommitReplayRequest& c) {
    ev::CommitReplayResponse r;
    r.set_commit_request_id(c.commit_request_id());
    r.set_replay_id(c.replay_id());
    r.set_process_time(NowMillis(*svc_->clock()));
    auto id = DecodeReplayId(c.replay_id());
    if (!id) {
      r.mutable_error()->set_code(ev::COMMIT);
      r.mutable_error()->set_msg("The replay ID is malformed.");
    } else {
      std::lock_guard g(svc_->managed_mu());
      if (auto* m = svc_->FindManagedLocked(managed_id_, "")) m->committed = *id;
    }
    commit_responses_.push_back(std::move(r));
  }

  void FinishOnce(grpc::Status st) {
    std::unique_lock l(mu_);
    if (finish_called_) return;
    if (write_in_flight_) {
      if (!pending_finish_) pending_finish_ = std::move(st);
      return;
    }
    finish_called_ = true;
    l.unlock();
    this->Finish(st);
  }

  PubSubService* svc_;
  grpc::CallbackServerContext* ctx_;
  std::string peer_;
  bool has_slot_ = false;
  Req req_;  // only touched by the read path

  std::mutex mu_;
  Resp resp_;
  std::string topic_;
  bool started_ = false;
  bool reads_done_ = false;
  bool write_in_flight_ = false;
  bool finish_called_ = false;
  bool stalled_ = false;
  std::optional<grpc::Status> pending_finish_;
  int credits_ = 0;
  uint64_t cursor_ = 0;
  SteadyTime last_request_, last_send_, zero_since_;
  bool managed_bound_ = false;
  std::string managed_id_;
  std::deque<ev::CommitReplayResponse> commit_responses_;
};

// PublishStream: one response per request; idle close after publish_stream_idle_timeout.
class PublishStreamReactor final
    : public PubSubService::StreamBase,
      public grpc::ServerBidiReactor<ev::PublishRequest, ev::PublishResponse> {
 public:
  PublishStreamReactor(PubSubService* svc, grpc::CallbackServerContext* ctx)
      : svc_(svc), ctx_(ctx) {
    svc_->Register(this);
    last_request_ = svc_->clock()->SteadyNow();
    grpc::Status st = svc_->Admit(ctx_, Rpc::kPublishStream);
    if (!st.ok()) {
      FinishOnce(st);
      return;
    }
    StartRead(&req_);
  }
  const std::string& topic() const override { return topic_; }
  StreamInfo Describe() override {
    std::lock_guard g(mu_);
    return StreamInfo{"PublishStream", topic_, !topic_.empty(), 0, 0, false};
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      std::lock_guard g(mu_);
      if (!pending_finish_) pending_finish_ = grpc::Status::OK;  // after queued responses
    } else {
      ev::PublishResponse resp;
      {
        std::lock_guard g(mu_);
        last_request_ = svc_->clock()->SteadyNow();
        if (topic_.empty()) topic_ = req_.topic_name();
      }
      if (!req_.topic_name().empty() && req_.topic_name() != topic_) {
        FinishOnce(svc_->MakeError(ctx_, Rpc::kPublishStream, RpcError::TopicMismatch()));
        return;
      }
      if (!svc_->bus()->HasTopic(topic_)) {
        FinishOnce(svc_->MakeError(ctx_, Rpc::kPublishStream,
                                   RpcError::TopicNotFound(svc_->options().org_id, topic_)));
        return;
      }
      svc_->DoPublish(topic_, req_, &resp);
      {
        std::lock_guard g(mu_);
        queue_.push_back(std::move(resp));
      }
      StartRead(&req_);
    }
    Poke();
  }

  void OnWriteDone(bool ok) override {
    {
      std::lock_guard g(mu_);
      write_in_flight_ = false;
      if (!ok) {
        queue_.clear();
        pending_finish_ = grpc::Status::CANCELLED;
      }
    }
    Poke();
  }
  void OnCancel() override { FinishOnce(grpc::Status::CANCELLED); }
  void OnDone() override {
    svc_->Unregister(this);
    Unref();
  }

  void Poke() override {
    std::unique_lock l(mu_);
    if (finish_called_ || write_in_flight_) return;
    if (!queue_.empty()) {
      current_ = std::move(queue_.front());
      queue_.pop_front();
      write_in_flight_ = true;
      l.unlock();
      StartWrite(&current_);
      return;
    }
    bool idle =
        svc_->clock()->SteadyNow() - last_request_ >= svc_->options().publish_stream_idle_timeout;
    if (pending_finish_ || idle) {
      grpc::Status st = pending_finish_ ? *pending_finish_ : grpc::Status::OK;
      finish_called_ = true;
      l.unlock();
      Finish(st);
    }
  }

 private:
  void FinishOnce(grpc::Status st) {
    std::unique_lock l(mu_);
    if (finish_called_) return;
    queue_.clear();
    if (write_in_flight_) {
      pending_finish_ = std::move(st);
      return;
    }
    finish_called_ = true;
    l.unlock();
    Finish(st);
  }

  PubSubService* svc_;
  grpc::CallbackServerContext* ctx_;
  ev::PublishRequest req_;
  std::mutex mu_;
  std::string topic_;
  std::deque<ev::PublishResponse> queue_;
  ev::PublishResponse current_;
  bool write_in_flight_ = false;
  bool finish_called_ = false;
  std::optional<grpc::Status> pending_finish_;
  SteadyTime last_request_;
};

}  // namespace

grpc::ServerBidiReactor<ev::FetchRequest, ev::FetchResponse>* PubSubService::Subscribe(
    grpc::CallbackServerContext* ctx) {
  return new FetchStream<false>(this, ctx);
}

grpc::ServerBidiReactor<ev::ManagedFetchRequest, ev::ManagedFetchResponse>*
PubSubService::ManagedSubscribe(grpc::CallbackServerContext* ctx) {
  return new FetchStream<true>(this, ctx);
}

grpc::ServerBidiReactor<ev::PublishRequest, ev::PublishResponse>* PubSubService::PublishStream(
    grpc::CallbackServerContext* ctx) {
  return new PublishStreamReactor(this, ctx);
}

// ---------------------------------------------------------------------------------------
// Unary RPCs

grpc::ServerUnaryReactor* PubSubService::GetSchema(grpc::CallbackServerContext* ctx,
                                                   const ev::SchemaRequest* req,
                                                   ev::SchemaInfo* resp) {
  auto* reactor = ctx->DefaultReactor();
  grpc::Status st = Admit(ctx, Rpc::kGetSchema);
  if (st.ok()) {
    auto json = bus_->SchemaJson(req->schema_id());
    if (!json) {
      st = MakeError(ctx, Rpc::kGetSchema, RpcError::SchemaNotFound(req->schema_id()));
    } else {
      resp->set_schema_json(*json);
      resp->set_schema_id(req->schema_id());
      resp->set_rpc_id(RandomUuid());
    }
  }
  reactor->Finish(st);
  return reactor;
}

grpc::ServerUnaryReactor* PubSubService::GetTopic(grpc::CallbackServerContext* ctx,
                                                  const ev::TopicRequest* req,
                                                  ev::TopicInfo* resp) {
  auto* reactor = ctx->DefaultReactor();
  grpc::Status st = Admit(ctx, Rpc::kGetTopic);
  if (st.ok()) {
    auto schema = bus_->TopicSchemaId(req->topic_name());
    auto settings = bus_->Settings(req->topic_name());
    if (!schema.ok() || !settings.ok()) {
      st = MakeError(ctx, Rpc::kGetTopic,
                     RpcError::TopicNotFound(options_.org_id, req->topic_name()));
    } else {
      resp->set_topic_name(req->topic_name());
      resp->set_tenant_guid(options_.org_id);
      resp->set_can_publish(settings->can_publish);
      resp->set_can_subscribe(settings->can_subscribe);
      resp->set_schema_id(*schema);
      resp->set_rpc_id(RandomUuid());
    }
  }
  reactor->Finish(st);
  return reactor;
}

void PubSubService::DoPublish(const std::string& topic, const ev::PublishRequest& req,
                              ev::PublishResponse* resp) {
  auto schema = bus_->TopicSchemaId(topic);
  auto settings = bus_->Settings(topic);
  resp->set_schema_id(schema.ok() ? *schema : "");
  resp->set_rpc_id(RandomUuid());
  std::function<Status(const std::string&, std::string_view)> validator;
  {
    std::lock_guard g(validator_mu_);
    validator = validator_;
  }
  for (const auto& pe : req.events()) {
    ev::PublishResult* r = resp->add_results();
    const bool id_ok = !pe.id().empty() && pe.id().size() <= 36;
    r->set_correlation_key(id_ok ? pe.id() : RandomUuid());
    auto fail = [&](std::string msg) {
      r->mutable_error()->set_code(ev::PUBLISH);
      r->mutable_error()->set_msg(std::move(msg));
    };
    if (!settings.ok() || !settings->can_publish) {
      fail("Publishing to topic " + topic + " is not allowed.");
      continue;
    }
    if (pe.ByteSizeLong() > options_.max_event_bytes) {
      fail("The event exceeds the maximum event size of 1 MB.");
      continue;
    }
    if (pe.schema_id().empty() || !bus_->SchemaJson(pe.schema_id())) {
      fail("The schema ID " + pe.schema_id() + " is not valid for topic " + topic + ".");
      continue;
    }
    if (validator) {
      Status valid = validator(pe.schema_id(), pe.payload());
      if (!valid.ok()) {
        fail("The event payload does not match schema " + pe.schema_id() + ": " + valid.message());
        continue;
      }
    }
    BusEvent e;
    e.event_id = r->correlation_key();
    e.schema_id = pe.schema_id();
    e.payload = pe.payload();
    for (const auto& h : pe.headers()) e.headers.emplace_back(h.key(), h.value());
    auto id = bus_->Append(topic, std::move(e), "published", "");
    if (!id.ok()) {
      fail(id.status().message());
      continue;
    }
    r->set_replay_id(EncodeReplayId(*id));
  }
}

grpc::ServerUnaryReactor* PubSubService::Publish(grpc::CallbackServerContext* ctx,
                                                 const ev::PublishRequest* req,
                                                 ev::PublishResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  grpc::Status st = Admit(ctx, Rpc::kPublish);
  if (st.ok()) {
    if (!bus_->HasTopic(req->topic_name())) {
      st = MakeError(ctx, Rpc::kPublish,
                     RpcError::TopicNotFound(options_.org_id, req->topic_name()));
    } else {
      DoPublish(req->topic_name(), *req, resp);
    }
  }
  reactor->Finish(st);
  return reactor;
}

}  // namespace forcepipe::emulator
