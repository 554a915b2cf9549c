// `forcepipe doctor` checks of the pubsub source (Factory::doctor): the
// credentials mint a token and every topic is visible to that user.

#include <chrono>
#include <string>

#include "salesforce/auth/auth_config.h"
#include "sources/pubsub/factory.h"
#include "sources/pubsub/pubsub_client.h"
#include "sources/pubsub/pubsub_source.h"

namespace forcepipe::pubsub {
namespace {

constexpr auto kRpcDeadline = std::chrono::seconds(15);

void CheckPubSub(const config::Node& node, const FactoryContext& ctx, const std::string& prefix,
                 const DoctorRun& run) {
  auto opts = OptionsFromNode(node, ctx);
  if (!opts.ok()) {
    run(prefix + "options", [&](DoctorCheck& c) { c.detail = opts.status().ToString(); });
    return;
  }
  std::unique_ptr<salesforce::TokenProvider> tokens;
  Result<salesforce::AccessToken> token = Status::Internal("not attempted");
  run(prefix + "credentials", [&](DoctorCheck& c) {
    auto t = salesforce::MakeTokenProvider(node.GetSection("auth"));
    if (!t.ok()) {
      c.detail = t.status().WithContext("sources." + ctx.name + ".auth").ToString();
      return;
    }
    tokens = std::move(t).value();
    token = tokens->Get();
    if (!token.ok()) {
      c.detail = std::string(tokens->flow()) + " flow: " + token.status().ToString();
      return;
    }
    c.ok = true;
    c.detail = std::string(tokens->flow()) + " flow: token minted for org " + token->org_id +
               ", instance " + token->instance_url;
  });
  PubSubClient client(opts->client, tokens.get());
  Status connected = tokens ? client.Connect() : Status::Ok();
  for (const auto& topic : opts->topics) {
    run(prefix + "topic " + topic, [&](DoctorCheck& c) {
      if (!token.ok()) {
        c.detail = "not checked: no access token (see credentials)";
        return;
      }
      if (!connected.ok()) {
        c.detail = connected.ToString();
        return;
      }
      // The client's own GetTopic has no deadline; doctor must not hang.
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + kRpcDeadline);
      PubSubClient::Authorize(&ctx, *token);
      eventbus::v1::TopicRequest req;
      req.set_topic_name(topic);
      eventbus::v1::TopicInfo info;
      Status st = FromGrpc(client.stub().GetTopic(&ctx, req, &info), ctx, "GetTopic");
      if (!st.ok()) {
        c.detail = opts->client.endpoint + ": " + st.ToString();
        return;
      }
      if (!info.can_subscribe()) {
        c.detail = "the user may not subscribe to it (can_subscribe=false)";
        return;
      }
      c.ok = true;
      c.detail = "subscribable; schema " + info.schema_id();
    });
  }
}

}  // namespace

SourceFactory PubSubSourceFactoryWithChecks() {
  SourceFactory f = PubSubSourceFactory();
  f.doctor = CheckPubSub;
  return f;
}

}  // namespace forcepipe::pubsub
