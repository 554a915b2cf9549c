#include "emulator/emulator_main.h"

#include <signal.h>

#include <cstdio>
#include <iostream>

#include "core/log.h"
#include "emulator/emulator.h"

namespace forcepipe::emulator {

int RunEmulatorCommand(const EmulatorCliOptions& cli) {
  auto log = forcepipe::log::Get("emulator");
  EmulatorOptions opts;
  if (!cli.config_file.empty()) {
    auto loaded = LoadEmulatorConfig(cli.config_file, opts);
    if (!loaded.ok()) {
      log->error("config: {}", loaded.status().ToString());
      return 2;
    }
    opts = std::move(loaded).value();
  }
  // Flags given on the command line win over the file (defaults stay out of the way).
  const EmulatorCliOptions defaults;
  if (cli.grpc_listen != defaults.grpc_listen || cli.config_file.empty())
    opts.grpc_listen = cli.grpc_listen;
  if (cli.http_listen != defaults.http_listen || cli.config_file.empty())
    opts.http_listen = cli.http_listen;
  if (cli.plaintext) opts.plaintext = true;
  if (cli.seed != defaults.seed || cli.config_file.empty()) opts.seed = cli.seed;
  if (cli.rate != defaults.rate || cli.config_file.empty()) opts.rate = cli.rate;

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // inherited by every thread started below

  Emulator emu(opts);
  Status st = emu.Start();
  if (!st.ok()) {
    log->error("emulator failed to start: {}", st.ToString());
    return st.code() == StatusCode::kInvalidArgument || st.code() == StatusCode::kNotFound ? 2 : 1;
  }
  const auto& ep = emu.endpoints();
  forcepipe::log::RegisterSecret(ep.access_token);
  forcepipe::log::RegisterSecret(ep.admin_token);
  forcepipe::log::RegisterSecret(opts.oauth.client_secret);
  forcepipe::log::RegisterSecret(opts.oauth.password);
  std::cout << emu.StartupJson() << std::endl;
  log->info("emulator listening: grpc {} http {} ({}), rate {}/s, seed {}", ep.grpc_endpoint,
            ep.http_endpoint, opts.plaintext ? "plaintext" : "TLS", opts.rate, opts.seed);
  int sig = 0;
  sigwait(&set, &sig);
  log->info("signal {} received, stopping", sig);
  emu.Stop();
  return 0;
}

}  // namespace forcepipe::emulator
