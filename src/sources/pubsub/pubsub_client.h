#pragma once

// PubSubClient: one gRPC channel to a Pub/Sub API endpoint for one org, the
// auth metadata every call carries, the unary RPCs (GetTopic, GetSchema,
// Publish), and a single-flight schema cache.
//
// Errors: gRPC statuses become Status with the server's `error-code` trailer
// in the message (e.g. "UNAUTHENTICATED (sfdc.platform.eventbus.grpc.service.auth.error)").
// UNAUTHENTICATED on a unary call re-mints the token once and retries.
//
// Thread safety: all methods are safe for concurrent use.

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "avro/decoder.h"
#include "avro/schema.h"
#include "core/status.h"
#include "salesforce/auth/token_provider.h"
#include "salesforce/cdc/field_bitmap.h"
#include "salesforce/proto/pubsub_api.grpc.pb.h"

namespace forcepipe::pubsub {

struct ClientOptions {
  std::string endpoint = "api.pubsub.salesforce.com:7443";
  bool plaintext = false;  // local testing only
  std::string ca_file;     // "" = system roots
  int max_receive_bytes = 64 << 20;
  std::chrono::seconds keepalive_time{60};  // HTTP/2 keepalive pings
};

// A schema ready for decoding: parsed, compiled, and (for change events) its
// bitmap field map.
struct CompiledSchema {
  std::string id;
  std::string json;
  std::shared_ptr<const avro::Schema> schema;
  std::unique_ptr<avro::Decoder> decoder;
  std::shared_ptr<const salesforce::cdc::FieldMap> cdc;  // null unless a change event
  // Top-level field indexes used for entry mapping; -1 when absent.
  int event_date = -1;
  int created_date = -1;
  int created_by_id = -1;
  int user_id = -1;
  int event_uuid = -1;
};

// The error-code trailer of a failed call ("" when none).
std::string ErrorCodeOf(const grpc::ClientContext& ctx);
// gRPC status -> Status, naming the RPC and the error-code trailer.
Status FromGrpc(const grpc::Status& s, const grpc::ClientContext& ctx, std::string_view rpc);

class PubSubClient {
 public:
  // `tokens` is not owned and must outlive the client.
  PubSubClient(ClientOptions options, salesforce::TokenProvider* tokens);

  // Builds the channel. Errors: unreadable CA file.
  Status Connect();

  eventbus::v1::PubSub::Stub& stub() { return *stub_; }
  salesforce::TokenProvider& tokens() { return *tokens_; }
  const ClientOptions& options() const { return options_; }

  // Adds accesstoken / instanceurl / tenantid metadata for `token` to `ctx`.
  static void Authorize(grpc::ClientContext* ctx, const salesforce::AccessToken& token);

  Result<eventbus::v1::TopicInfo> GetTopic(const std::string& topic);
  Result<eventbus::v1::PublishResponse> Publish(const eventbus::v1::PublishRequest& request);

  // The compiled schema for `schema_id`; fetched with GetSchema once per id
  // however many threads ask at once (single-flight), then cached.
  Result<std::shared_ptr<const CompiledSchema>> Schema(const std::string& schema_id);

  uint64_t schema_fetches() const;
  uint64_t auth_refreshes() const;

 private:
  // Runs `call` with fresh auth metadata; on UNAUTHENTICATED refreshes the token
  // once and runs it again.
  template <typename Call>
  Status WithAuth(std::string_view rpc, Call call);

  ClientOptions options_;
  salesforce::TokenProvider* tokens_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<eventbus::v1::PubSub::Stub> stub_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::shared_ptr<const CompiledSchema>> schemas_;
  std::map<std::string, bool> in_flight_;
  uint64_t schema_fetches_ = 0;
  uint64_t auth_refreshes_ = 0;
};

// Compiles a schema JSON into a CompiledSchema.
Result<std::shared_ptr<const CompiledSchema>> CompileSchema(const std::string& id,
                                                            const std::string& json);

}  // namespace forcepipe::pubsub
