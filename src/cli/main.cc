// forcepipe: the only main. Parses the command line (CLI11) and hands off to
// the app layer. Exit codes: 0 ok, 1 runtime failure, 2 usage or config error.

#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <iostream>
#include <thread>

#include "app/app.h"
#include "cli/commands.h"
#include "core/log.h"

// GnuTLS initialises itself in a library constructor (loading p11-kit and its
// crypto back ends) as soon as it is loaded — and it is loaded only as a
// dependency of libraries we use without TLS through it (librtmp and libldap,
// via libcurl and libpq), which call gnutls_global_init() themselves before
// any GnuTLS use. Returning 1 here skips that implicit initialisation: the
// documented GNUTLS_SKIP_GLOBAL_INIT mechanism (a weak symbol the library
// checks), spelled out because we do not include gnutls.h. Saves ~0.8 MB of
// resident memory in every forcepipe process. Exported from the executable
// by src/cli/CMakeLists.txt so the library sees it.
extern "C" int _gnutls_global_init_skip(void) { return 1; }

namespace {

constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;

}  // namespace

int main(int argc, char** argv) {
  using namespace forcepipe;

  // Block the stop signals in every thread; a dedicated thread takes them with
  // sigwait (see cli/commands.cc), so no work happens in a signal handler.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  CLI::App cli{
      "forcepipe: stream Salesforce events into the stores you already run, without losing any"};
  cli.require_subcommand(1);
  cli.set_version_flag("--version", std::string("forcepipe ") + cli::kVersion);
  std::string log_level = "info";
  std::string log_format = isatty(STDERR_FILENO) ? "text" : "json";
  cli.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  cli.add_option("--log-format", log_format, "text (default on a terminal) or json")
      ->check(CLI::IsMember({"text", "json"}));

  cli::Options o;
  auto* run = cli.add_subcommand("run", "run the pipelines of a config until stopped");
  run->add_option("-c,--config", o.config_file, "config file")->required();

  auto* cfg = cli.add_subcommand("config", "check a config or print an example");
  cfg->require_subcommand(1);
  auto* check = cfg->add_subcommand("check", "validate a config and report the first error");
  check->add_option("-c,--config", o.config_file, "config file")->required();
  auto* example = cfg->add_subcommand("example", "print a complete commented example config");

  auto* state = cli.add_subcommand("state", "show or change stored checkpoints");
  state->require_subcommand(1);
  auto* show = state->add_subcommand("show", "print checkpoints (all, or one KEY)");
  show->add_option("-c,--config", o.config_file, "config file")->required();
  show->add_option("key", o.key, "checkpoint key");
  auto* sset = state->add_subcommand("set", "set KEY to VALUE");
  sset->add_option("-c,--config", o.config_file, "config file")->required();
  sset->add_option("key", o.key, "checkpoint key")->required();
  sset->add_option("value", o.value, "new value")->required();
  auto* del = state->add_subcommand("delete", "delete KEY");
  del->add_option("-c,--config", o.config_file, "config file")->required();
  del->add_option("key", o.key, "checkpoint key")->required();

  auto* demo = cli.add_subcommand("demo", "run the bundled demo pipeline with live progress");
  demo->add_option("--duration", o.duration,
                   "stop after this long (e.g. 30s); default: until Ctrl-C");
  demo->add_option("--dir", o.demo_dir, "where the demo keeps its files");
  demo->add_option("--rate", o.rate, "events per second");
  demo->add_option("--listen", o.listen, "status page address (port 0 picks a free one)");

  cli::AddOptionalCommands(cli, o);

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = cli.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  log::Init(log_format == "json" ? log::Format::kJson : log::Format::kText,
            spdlog::level::from_str(log_level));

  if (*run) return cli::Run(o);
  if (*check) return cli::ConfigCheck(o);
  if (*example) return cli::ConfigExample();
  if (*show) return cli::StateShow(o);
  if (*sset) return cli::StateSet(o);
  if (*del) return cli::StateDelete(o);
  if (*demo) return cli::Demo(o);
  return cli::RunOptionalCommands(cli, o);
}
