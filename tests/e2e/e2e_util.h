#pragma once

// Helpers shared by the end-to-end tests: a `forcepipe emulator` child
// process, plain HTTP GETs, and log scraping. Header-only; tests only.

#include <httplib.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "testing/fakes.h"
#include "testing/process.h"

namespace forcepipe::e2e {

// A `forcepipe emulator --plaintext` child process and what it printed on its
// single stdout line.
struct EmulatorProcess {
  testing::Child child;
  std::string grpc_endpoint;
  std::string http_endpoint;  // "http://127.0.0.1:PORT"
  std::string client_id;
  std::string stderr_path;

  ~EmulatorProcess() {
    if (child.pid() > 0) {
      child.Signal(SIGTERM);
      child.Wait(std::chrono::seconds(20));
    }
  }
};

// Starts the emulator with `config_yaml` (written next to its logs in `dir`).
// Returns nullopt (after printing why) when it does not come up within 60 s.
inline std::unique_ptr<EmulatorProcess> StartEmulator(const testing::TempDir& dir,
                                                      const std::string& config_yaml,
                                                      double rate = 200) {
  auto e = std::make_unique<EmulatorProcess>();
  std::string cfg = dir.File("emulator.yaml");
  testing::WriteFile(cfg, config_yaml);
  std::string out = dir.File("emulator.out");
  e->stderr_path = dir.File("emulator.err");
  e->child = testing::Child::Spawn({testing::ForcepipeBinary(), "emulator", "--plaintext",
                                    "--config", cfg, "--rate", std::to_string(rate)},
                                   out, e->stderr_path);
  bool up =
      testing::WaitUntil([&] { return testing::ReadFile(out).find('\n') != std::string::npos; },
                         std::chrono::seconds(60));
  if (!up) return nullptr;
  std::string line = testing::ReadFile(out);
  line = line.substr(0, line.find('\n'));
  auto j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded()) return nullptr;
  e->grpc_endpoint = j.value("grpc_endpoint", "");
  e->http_endpoint = j.value("http_endpoint", "");
  e->client_id = j.value("client_id", "");
  if (e->http_endpoint.rfind("http", 0) != 0) e->http_endpoint = "http://" + e->http_endpoint;
  return e;
}

struct HttpResult {
  int status = 0;  // 0 = transport error
  std::string body;
  std::string content_type;
};

// GET `url` ("http://host:port/path") with an optional bearer token.
inline HttpResult HttpGet(const std::string& url, const std::string& bearer = "") {
  std::smatch m;
  static const std::regex re(R"(^(https?://[^/]+)(/.*)?$)");
  HttpResult r;
  if (!std::regex_match(url, m, re)) return r;
  httplib::Client c(m[1].str());
  c.set_connection_timeout(5);
  c.set_read_timeout(10);
  httplib::Headers h;
  if (!bearer.empty()) h.emplace("Authorization", "Bearer " + bearer);
  auto res = c.Get(m[2].matched ? m[2].str() : "/", h);
  if (!res) return r;
  r.status = res->status;
  r.body = res->body;
  r.content_type = res->get_header_value("Content-Type");
  return r;
}

// The base URL ("http://127.0.0.1:PORT") of the status server announced in a
// forcepipe log ("status page at http://.../status"), or "".
inline std::string StatusBaseUrl(const std::string& log) {
  static const std::regex re(R"((http://127\.0\.0\.1:[0-9]+)/status)");
  std::smatch m;
  if (std::regex_search(log, m, re)) return m[1].str();
  return "";
}

// Every regular file under `root` with its content.
inline std::map<std::string, std::string> ReadTree(const std::string& root) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  if (!std::filesystem::exists(root, ec)) return out;
  for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec)) out[it->path().string()] = testing::ReadFile(it->path().string());
  }
  return out;
}

// Runs `argv` to completion (up to `timeout`); returns {exit code or -1, stdout, stderr}.
struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
inline RunResult RunToEnd(const testing::TempDir& dir, const std::vector<std::string>& argv,
                          const std::string& tag,
                          std::chrono::seconds timeout = std::chrono::seconds(60)) {
  std::string o = dir.File(tag + ".out"), e = dir.File(tag + ".err");
  testing::Child c = testing::Child::Spawn(argv, o, e);
  int st = c.Wait(timeout);
  if (st == -1) {
    c.Signal(SIGKILL);
    c.Wait(std::chrono::seconds(10));
  }
  RunResult r;
  r.exit_code = (st != -1 && WIFEXITED(st)) ? WEXITSTATUS(st) : -1;
  r.out = testing::ReadFile(o);
  r.err = testing::ReadFile(e);
  return r;
}

}  // namespace forcepipe::e2e
