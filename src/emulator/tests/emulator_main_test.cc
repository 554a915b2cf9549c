// `forcepipe emulator` entry point: a forked child runs RunEmulatorCommand; the parent reads
// the single startup JSON line from its stdout, uses the endpoints, then stops it with SIGTERM.

#include "emulator/emulator_main.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "emulator/tls.h"
#include "salesforce/proto/pubsub_api.grpc.pb.h"

namespace forcepipe::emulator {
namespace {

// Reads one line from `fd` within `timeout`.
std::string ReadLine(int fd, std::chrono::milliseconds timeout) {
  std::string line;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char c;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    deadline - std::chrono::steady_clock::now())
                                    .count());
    if (poll(&p, 1, std::max(left, 1)) <= 0) continue;
    if (read(fd, &c, 1) != 1) break;
    if (c == '\n') return line;
    line.push_back(c);
  }
  return line;
}

TEST(EmulatorMain, PrintsOneJsonLineServesAndStopsOnSigterm) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    EmulatorCliOptions cli;
    cli.rate = 50;
    cli.seed = 3;
    _exit(RunEmulatorCommand(cli));
  }
  close(fds[1]);
  std::string line = ReadLine(fds[0], std::chrono::seconds(30));
  auto j = nlohmann::json::parse(line, nullptr, false);
  ASSERT_TRUE(j.is_object()) << line;
  for (const char* k : {"grpc_endpoint", "http_endpoint", "instance_url", "tenant_id",
                        "access_token", "admin_token", "ca_file"}) {
    EXPECT_TRUE(j.contains(k)) << k;
  }
  grpc::SslCredentialsOptions so;
  so.pem_root_certs = *ReadFile(j["ca_file"].get<std::string>());
  auto stub = eventbus::v1::PubSub::NewStub(
      grpc::CreateChannel(j["grpc_endpoint"].get<std::string>(), grpc::SslCredentials(so)));
  grpc::ClientContext ctx;
  ctx.AddMetadata("accesstoken", j["access_token"].get<std::string>());
  ctx.AddMetadata("instanceurl", j["instance_url"].get<std::string>());
  ctx.AddMetadata("tenantid", j["tenant_id"].get<std::string>());
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  auto s = stub->Subscribe(&ctx);
  eventbus::v1::FetchRequest req;
  req.set_topic_name("/event/LoginEventStream");
  req.set_replay_preset(eventbus::v1::EARLIEST);
  req.set_num_requested(5);
  ASSERT_TRUE(s->Write(req));
  int got = 0;
  eventbus::v1::FetchResponse r;
  while (got < 5 && s->Read(&r)) got += r.events_size();  // generated at 50/s in the child
  EXPECT_EQ(got, 5);
  ctx.TryCancel();
  s->Finish();
  // Nothing else on stdout.
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  std::string rest;
  char buf[256];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof(buf))) > 0) rest.append(buf, static_cast<size_t>(n));
  EXPECT_EQ(rest, "");
  close(fds[0]);
}

}  // namespace
}  // namespace forcepipe::emulator
