#pragma once

// `forcepipe emulator`: runs a standalone emulator until SIGINT/SIGTERM.
//
// Once listening it prints ONE JSON line on stdout (grpc_endpoint, http_endpoint,
// instance_url, tenant_id, access_token, admin_token, ca_file, plus plaintext, client_id,
// client_secret, username, jwt_key_file) and then logs to stderr only.

#include <cstdint>
#include <string>

namespace forcepipe::emulator {

struct EmulatorCliOptions {
  std::string grpc_listen = "127.0.0.1:0";
  std::string http_listen = "127.0.0.1:0";
  bool plaintext = false;
  uint64_t seed = 1;
  double rate = 10;
  std::string config_file;
};

// Blocks until SIGINT or SIGTERM. Returns 0 on a clean stop, 2 on configuration errors,
// 1 when the emulator cannot start. Blocks SIGINT/SIGTERM in the calling thread (and the
// threads it starts) and waits for them with sigwait.
int RunEmulatorCommand(const EmulatorCliOptions& cli);

}  // namespace forcepipe::emulator
