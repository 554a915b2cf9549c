// loki_receiver: a standalone Loki-compatible push receiver for process tests.
//
//   loki_receiver --out FILE [--port N] [--host 127.0.0.1]
//
// Prints "port=<N>" on stdout once listening, appends every stored entry to
// FILE as one JSON line (flushed before the HTTP response is sent), and runs
// until SIGTERM/SIGINT.

#include <signal.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "sinks/loki/tests/loki_receiver.h"

int main(int argc, char** argv) {
  std::string out_path, host = "127.0.0.1";
  int port = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--out" && i + 1 < argc) {
      out_path = argv[++i];
    } else if (a == "--port" && i + 1 < argc) {
      port = std::stoi(argv[++i]);
    } else if (a == "--host" && i + 1 < argc) {
      host = argv[++i];
    } else {
      std::fprintf(stderr, "usage: loki_receiver --out FILE [--port N] [--host H]\n");
      return 2;
    }
  }
  if (out_path.empty()) {
    std::fprintf(stderr, "loki_receiver: --out is required\n");
    return 2;
  }
  FILE* out = std::fopen(out_path.c_str(), "a");
  if (!out) {
    std::fprintf(stderr, "loki_receiver: cannot open %s: %s\n", out_path.c_str(),
                 std::strerror(errno));
    return 1;
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // before any thread starts

  forcepipe::loki_test::LokiReceiver receiver;
  receiver.OnStored([out](const std::vector<forcepipe::loki_test::ReceivedEntry>& entries) {
    for (const auto& e : entries) {
      std::string line = forcepipe::loki_test::EntryToJson(e);
      line.push_back('\n');
      std::fwrite(line.data(), 1, line.size(), out);
    }
    std::fflush(out);
  });
  forcepipe::Status st = receiver.Start(port, host);
  if (!st.ok()) {
    std::fprintf(stderr, "loki_receiver: %s\n", st.ToString().c_str());
    return 1;
  }
  std::printf("port=%d\n", receiver.port());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&set, &sig);
  receiver.Stop();
  std::fclose(out);
  return 0;
}
