#pragma once

// The CLI's commands, one function each. Each returns the process exit code:
// 0 ok, 1 runtime failure, 2 usage or config error.

#include <CLI/CLI.hpp>
#include <string>

namespace forcepipe::cli {

inline constexpr const char* kVersion = "0.1.0";

struct Options {
  std::string config_file;
  std::string key;
  std::string value;
  std::string duration;
  std::string demo_dir = "forcepipe-demo";
  double rate = 2000;
  std::string listen = "127.0.0.1:8080";
  // Optional commands (emulator, history, ...) keep their flags here.
  std::string grpc_listen = "127.0.0.1:0";
  std::string http_listen = "127.0.0.1:0";
  bool plaintext = false;
  uint64_t seed = 1;
  std::string record_id;
  int limit = 50;
  std::string type;
  bool json = false;
};

int Run(const Options& o);
int ConfigCheck(const Options& o);
int ConfigExample();
int StateShow(const Options& o);
int StateSet(const Options& o);
int StateDelete(const Options& o);
int Demo(const Options& o);

// Commands whose components may not be in the build.
void AddOptionalCommands(CLI::App& app, Options& o);
int RunOptionalCommands(CLI::App& app, const Options& o);

}  // namespace forcepipe::cli
