#include "sources/pubsub/pubsub_client.h"

#include <fstream>
#include <sstream>

#include "core/log.h"

namespace forcepipe::pubsub {

std::string ErrorCodeOf(const grpc::ClientContext& ctx) {
  const auto& md = ctx.GetServerTrailingMetadata();
  auto it = md.find("error-code");
  if (it == md.end()) return "";
  return std::string(it->second.data(), it->second.size());
}

Status FromGrpc(const grpc::Status& s, const grpc::ClientContext& ctx, std::string_view rpc) {
  if (s.ok()) return Status::Ok();
  std::string code = ErrorCodeOf(ctx);
  std::string msg = std::string(rpc) + ": " + s.error_message();
  if (!code.empty()) msg += " [" + code + "]";
  msg = log::Redact(msg);
  switch (s.error_code()) {
    case grpc::StatusCode::UNAUTHENTICATED:
      return Status::Unauthenticated(msg);
    case grpc::StatusCode::PERMISSION_DENIED:
      return Status::PermissionDenied(msg);
    case grpc::StatusCode::INVALID_ARGUMENT:
      return Status::InvalidArgument(msg);
    case grpc::StatusCode::NOT_FOUND:
      return Status::NotFound(msg);
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return Status::ResourceExhausted(msg);
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return Status::DeadlineExceeded(msg);
    case grpc::StatusCode::CANCELLED:
      return Status::Cancelled(msg);
    default:
      return Status::Unavailable(msg);
  }
}

Result<std::shared_ptr<const CompiledSchema>> CompileSchema(const std::string& id,
                                                            const std::string& json) {
  auto cs = std::make_shared<CompiledSchema>();
  cs->id = id;
  cs->json = json;
  auto parsed = avro::ParseSchema(json);
  if (!parsed.ok()) return parsed.status().WithContext("schema " + id);
  cs->schema = *parsed;
  FP_ASSIGN_OR_RETURN(cs->decoder, avro::Decoder::Create(cs->schema));
  const avro::Schema& s = *cs->schema;
  if (s.type() != avro::Type::kRecord)
    return Status::InvalidArgument("schema " + id + " is not a record");
  auto idx = [&](std::string_view name) {
    const avro::Field* f = s.FindField(name);
    return f ? static_cast<int>(f->index) : -1;
  };
  cs->event_date = idx("EventDate");
  cs->created_date = idx("CreatedDate");
  cs->created_by_id = idx("CreatedById");
  cs->user_id = idx("UserId");
  cs->event_uuid = idx("EventUuid");
  if (!s.fields().empty() && s.fields()[0].name == "ChangeEventHeader") {
    auto map = salesforce::cdc::FieldMap::Build(s);
    if (!map.ok()) return map.status().WithContext("schema " + id);
    cs->cdc = *map;
  }
  return std::shared_ptr<const CompiledSchema>(std::move(cs));
}

PubSubClient::PubSubClient(ClientOptions options, salesforce::TokenProvider* tokens)
    : options_(std::move(options)), tokens_(tokens) {}

Status PubSubClient::Connect() {
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (options_.plaintext) {
    creds = grpc::InsecureChannelCredentials();
  } else {
    grpc::SslCredentialsOptions ssl;
    if (!options_.ca_file.empty()) {
      std::ifstream in(options_.ca_file);
      if (!in) return Status::InvalidArgument("ca_file " + options_.ca_file + ": cannot read");
      std::ostringstream ss;
      ss << in.rdbuf();
      ssl.pem_root_certs = ss.str();
    }
    creds = grpc::SslCredentials(ssl);
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options_.max_receive_bytes);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, static_cast<int>(options_.keepalive_time.count() * 1000));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20'000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // Bound what HTTP/2 buffers per stream: at most 100 events are owed anyway,
  // and BDP probing would otherwise grow the window (and memory) to megabytes.
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 1 << 20);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 500);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 10'000);
  channel_ = grpc::CreateCustomChannel(options_.endpoint, creds, args);
  stub_ = eventbus::v1::PubSub::NewStub(channel_);
  return Status::Ok();
}

void PubSubClient::Authorize(grpc::ClientContext* ctx, const salesforce::AccessToken& token) {
  ctx->AddMetadata("accesstoken", token.token);
  ctx->AddMetadata("instanceurl", token.instance_url);
  ctx->AddMetadata("tenantid", token.org_id);
}

template <typename Call>
Status PubSubClient::WithAuth(std::string_view rpc, Call call) {
  auto token = tokens_->Get();
  if (!token.ok()) return token.status().WithContext(std::string(rpc) + ": auth");
  for (int attempt = 0; attempt < 2; ++attempt) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    Authorize(&ctx, *token);
    grpc::Status s = call(&ctx);
    if (s.error_code() == grpc::StatusCode::UNAUTHENTICATED && attempt == 0) {
      {
        std::lock_guard<std::mutex> l(mu_);
        ++auth_refreshes_;
      }
      token = tokens_->Refresh(token->token);
      if (!token.ok()) return token.status().WithContext(std::string(rpc) + ": re-authenticating");
      continue;
    }
    return FromGrpc(s, ctx, rpc);
  }
  return Status::Unauthenticated(std::string(rpc) + ": rejected after re-authenticating");
}

Result<eventbus::v1::TopicInfo> PubSubClient::GetTopic(const std::string& topic) {
  eventbus::v1::TopicRequest req;
  req.set_topic_name(topic);
  eventbus::v1::TopicInfo info;
  FP_RETURN_IF_ERROR(WithAuth("GetTopic " + topic, [&](grpc::ClientContext* ctx) {
    info.Clear();
    return stub_->GetTopic(ctx, req, &info);
  }));
  return info;
}

Result<eventbus::v1::PublishResponse> PubSubClient::Publish(
    const eventbus::v1::PublishRequest& request) {
  eventbus::v1::PublishResponse resp;
  FP_RETURN_IF_ERROR(WithAuth("Publish " + request.topic_name(), [&](grpc::ClientContext* ctx) {
    resp.Clear();
    return stub_->Publish(ctx, request, &resp);
  }));
  return resp;
}

Result<std::shared_ptr<const CompiledSchema>> PubSubClient::Schema(const std::string& schema_id) {
  {
    std::unique_lock<std::mutex> l(mu_);
    for (;;) {
      auto it = schemas_.find(schema_id);
      if (it != schemas_.end()) return it->second;
      if (!in_flight_[schema_id]) break;
      cv_.wait(l);  // another thread is fetching this id
    }
    in_flight_[schema_id] = true;
    ++schema_fetches_;
  }
  eventbus::v1::SchemaRequest req;
  req.set_schema_id(schema_id);
  eventbus::v1::SchemaInfo info;
  Status s = WithAuth("GetSchema " + schema_id, [&](grpc::ClientContext* ctx) {
    info.Clear();
    return stub_->GetSchema(ctx, req, &info);
  });
  Result<std::shared_ptr<const CompiledSchema>> compiled =
      s.ok() ? CompileSchema(schema_id, info.schema_json())
             : Result<std::shared_ptr<const CompiledSchema>>(s);
  std::lock_guard<std::mutex> l(mu_);
  in_flight_.erase(schema_id);
  if (compiled.ok()) schemas_[schema_id] = *compiled;
  cv_.notify_all();
  return compiled;
}

uint64_t PubSubClient::schema_fetches() const {
  std::lock_guard<std::mutex> l(mu_);
  return schema_fetches_;
}

uint64_t PubSubClient::auth_refreshes() const {
  std::lock_guard<std::mutex> l(mu_);
  return auth_refreshes_;
}

}  // namespace forcepipe::pubsub
