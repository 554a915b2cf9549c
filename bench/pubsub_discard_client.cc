// The transport limit for `forcepipe tail`: subscribes to a topic with the
// 100-credit rule (top up at half), counts the events and discards them
// without decoding. Prints one JSON line: {"events":N,"seconds":S,"events_per_s":R}.
//
//   pubsub_discard_client ENDPOINT TOPIC ACCESS_TOKEN INSTANCE_URL TENANT_ID COUNT

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "salesforce/proto/pubsub_api.grpc.pb.h"

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: %s ENDPOINT TOPIC ACCESS_TOKEN INSTANCE_URL TENANT_ID COUNT\n",
                 argv[0]);
    return 2;
  }
  const long long want = std::atoll(argv[6]);
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  auto channel = grpc::CreateCustomChannel(argv[1], grpc::InsecureChannelCredentials(), args);
  auto stub = eventbus::v1::PubSub::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.AddMetadata("accesstoken", argv[3]);
  ctx.AddMetadata("instanceurl", argv[4]);
  ctx.AddMetadata("tenantid", argv[5]);
  auto stream = stub->Subscribe(&ctx);
  eventbus::v1::FetchRequest first;
  first.set_topic_name(argv[2]);
  first.set_replay_preset(eventbus::v1::EARLIEST);
  first.set_num_requested(100);
  auto start = std::chrono::steady_clock::now();
  if (!stream->Write(first)) return 1;
  long long got = 0;
  int outstanding = 100;
  eventbus::v1::FetchResponse resp;
  while (got < want && stream->Read(&resp)) {
    got += resp.events_size();
    outstanding = resp.pending_num_requested();
    if (outstanding <= 50) {
      eventbus::v1::FetchRequest more;
      more.set_num_requested(100 - outstanding);
      if (!stream->Write(more)) break;
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ctx.TryCancel();
  stream->Finish();
  std::printf("{\"events\":%lld,\"seconds\":%.3f,\"events_per_s\":%.0f}\n", got, secs, got / secs);
  return got >= want ? 0 : 1;
}
