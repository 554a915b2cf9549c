// Canary-secret redaction: every secret a config can hold is set to a unique
// canary string, the real `forcepipe` binary is driven through its success AND
// error paths (wrong OAuth secret, a Loki that rejects, a SQL server that is
// not there), and every output it produces is scanned for the canaries:
// stderr logs in json and text, /metrics, /status, /status.json, /readyz,
// /healthz, every file under data_dir (dead letters), the checkpoint file,
// `config check` and `state show`.

#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <sstream>
#include <thread>

#include "core/base64.h"
#include "e2e_util.h"

namespace forcepipe {
namespace {

using e2e::HttpGet;
using testing::Child;
using testing::ForcepipeBinary;
using testing::ReadFile;
using testing::TempDir;
using testing::WaitUntil;

// Distinct canaries, none a substring of another or of anything forcepipe
// prints by itself. Most hold characters that percent-encoding, base64's two
// alphabets and JSON escaping spell differently; the PostgreSQL one holds an
// unencoded '@' (libpq would take its tail for the host name).
constexpr const char* kRightSecret = "CnryRight+Client/Secret=7Q2x";
constexpr const char* kWrongSecret = "CnryWrong+Client/Secret=9Z4k";
constexpr const char* kServerToken = "CnryServerAuthToken3M8p";
constexpr const char* kLokiUser = "lokiuser";
constexpr const char* kLokiPassword = "CnryLoki/Pass+word=5T1w";
constexpr const char* kLokiBearer = "CnryLokiBearer6V0r";
constexpr const char* kPgUser = "forcepipe";
constexpr const char* kPgPassword = "CnryPg@PassTail2K7d";
constexpr const char* kPgTail = "PassTail2K7d";  // what follows the '@'
constexpr const char* kPgQueryPassword = "CnryPgQuery+Pw/4Hs";

// Every percent-encoding a client or server may use (RFC 3986 unreserved
// characters kept; upper or lower hex).
std::string PercentEncode(std::string_view s, bool lower) {
  const char* hex = lower ? "0123456789abcdef" : "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += {'%', hex[c >> 4], hex[c & 15]};
    }
  }
  return out;
}

// Each canary in every spelling that must not appear: raw, base64 (standard
// and URL-safe, with and without padding), percent-encoded (upper and lower
// hex), JSON-escaped ('/' as "\/"), and the combined forms credentials are
// sent in (Basic user:password, DSN user:password).
std::vector<std::pair<std::string, std::string>> Canaries() {
  std::vector<std::pair<std::string, std::string>> out;
  auto add = [&](const std::string& name, const std::string& raw) {
    const std::string b64 = Base64Encode(raw);
    const std::string url = Base64UrlEncode(raw);
    std::string json = raw;
    for (size_t p = 0; (p = json.find('/', p)) != std::string::npos; p += 2)
      json.replace(p, 1, "\\/");
    for (auto& [form, text] : std::vector<std::pair<std::string, std::string>>{
             {"raw", raw},
             {"base64", b64},
             {"base64 unpadded", b64.substr(0, b64.find('='))},
             {"base64url", url},
             {"base64url padded", url + std::string(b64.size() - url.size(), '=')},
             {"percent-encoded", PercentEncode(raw, false)},
             {"percent-encoded lower", PercentEncode(raw, true)},
             {"json-escaped", json}}) {
      bool dup = false;
      for (const auto& o : out) dup = dup || o.second == text;
      if (!dup) out.emplace_back(name + " (" + form + ")", text);
    }
  };
  for (const char* c : {kRightSecret, kWrongSecret, kServerToken, kLokiPassword, kLokiBearer,
                        kPgPassword, kPgQueryPassword}) {
    add(c, c);
  }
  add("pg password tail", kPgTail);
  add("loki basic user:password", std::string(kLokiUser) + ":" + kLokiPassword);
  add("pg user:password", std::string(kPgUser) + ":" + kPgPassword);
  return out;
}

// A free loopback port nothing listens on (bound, then closed).
int ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  close(fd);
  return port;
}

// A Loki push endpoint on loopback that answers a script: first 401s, then
// 500s, then 400s (entries dead-lettered), then 204.
class ScriptedLoki {
 public:
  ScriptedLoki() {
    http_.Get("/ready", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("ready", "text/plain");
    });
    http_.Post("/loki/api/v1/push", [this](const httplib::Request& req, httplib::Response& res) {
      int n = requests_++;
      if (req.get_header_value("Authorization").empty()) ++unauthenticated_;
      if (n < 2) {
        res.status = 401;
        res.set_content("no org id", "text/plain");
      } else if (n < 4) {
        res.status = 500;
        res.set_content("ingester unavailable", "text/plain");
      } else if (n < 40) {
        res.status = 400;
        // Like a proxy in front of Loki: the error echoes the request headers.
        res.set_content("entry too far behind; request headers: Authorization=" +
                            req.get_header_value("Authorization"),
                        "text/plain");
      } else {
        res.status = 204;
        ++accepted_;
      }
    });
    port_ = http_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { http_.listen_after_bind(); });
    WaitUntil([this] { return http_.is_running(); }, std::chrono::seconds(10));
  }
  ~ScriptedLoki() {
    http_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int requests() const { return requests_; }
  int accepted() const { return accepted_; }
  int unauthenticated() const { return unauthenticated_; }

 private:
  httplib::Server http_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<int> requests_{0}, accepted_{0}, unauthenticated_{0};
};

class Redaction : public ::testing::Test {
 protected:
  // Records one output to scan.
  void Collect(const std::string& where, const std::string& text) {
    outputs_.emplace_back(where, text);
  }

  // Scrapes every HTTP route of a running forcepipe (with and without the token).
  void ScrapeAll(const std::string& base, const std::string& tag) {
    for (const char* path : {"/metrics", "/status", "/status.json", "/readyz", "/healthz"}) {
      auto r = HttpGet(base + path, kServerToken);
      EXPECT_NE(r.status, 0) << tag << path;
      EXPECT_NE(r.status, 401) << tag << path << ": the configured token was refused";
      Collect(tag + " GET " + path, r.body);
      auto anon = HttpGet(base + path);
      Collect(tag + " GET " + path + " (no token)", anon.body);
      if (std::string(path) != "/healthz") {
        EXPECT_EQ(anon.status, 401) << tag << path << " served without the token";
      }
      auto wrong = HttpGet(base + path, "not-the-token");
      Collect(tag + " GET " + path + " (wrong token)", wrong.body);
    }
  }

  // Runs `forcepipe run -c cfg` until `ready(stderr)` holds, scrapes, stops.
  // Returns the stderr text.
  std::string RunUntil(const std::string& cfg, const std::string& format, const std::string& tag,
                       const std::function<bool(const std::string&)>& ready) {
    std::string out = dir_.File(tag + ".out"), err = dir_.File(tag + ".err");
    Child c = Child::Spawn(
        {ForcepipeBinary(), "--log-format", format, "--log-level", "debug", "run", "-c", cfg}, out,
        err);
    std::string base;
    int exited = -1;
    bool ok = WaitUntil(
        [&] {
          if (exited == -1) exited = c.Wait(std::chrono::milliseconds(0));
          if (exited != -1) return false;
          std::string log = ReadFile(err);
          if (base.empty()) base = e2e::StatusBaseUrl(log);
          return !base.empty() && ready(log);
        },
        std::chrono::seconds(90));
    EXPECT_TRUE(ok) << tag << ": condition not reached (exited: " << (exited != -1)
                    << "); stderr:\n"
                    << ReadFile(err);
    if (exited == -1) {
      if (!base.empty()) ScrapeAll(base, tag);
      c.Signal(SIGTERM);
      int st = c.Wait(std::chrono::seconds(60));
      EXPECT_TRUE(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
          << tag << ": no clean stop on SIGTERM";
    }
    std::string log = ReadFile(err);
    Collect(tag + " stderr", log);
    Collect(tag + " stdout", ReadFile(out));
    return log;
  }

  void CollectCli(const std::vector<std::string>& args, const std::string& tag) {
    std::vector<std::string> argv = {ForcepipeBinary()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = e2e::RunToEnd(dir_, argv, tag);
    Collect(tag + " stdout", r.out);
    Collect(tag + " stderr", r.err);
  }

  void ExpectNoCanary() {
    size_t bytes = 0;
    for (const auto& [where, text] : outputs_) {
      bytes += text.size();
      for (const auto& [name, canary] : Canaries()) {
        auto pos = text.find(canary);
        EXPECT_EQ(pos, std::string::npos)
            << "secret canary " << name << " \"" << canary << "\" leaked in " << where << ": ..."
            << text.substr(pos == std::string::npos ? 0 : (pos > 200 ? pos - 200 : 0), 400)
            << "...";
      }
    }
    std::cout << "scanned " << outputs_.size() << " outputs, " << bytes << " bytes, for "
              << Canaries().size() << " canaries\n";
  }

  TempDir dir_;
  std::vector<std::pair<std::string, std::string>> outputs_;
};

std::string PubSubSource(const e2e::EmulatorProcess& emu, const std::string& secret) {
  std::ostringstream c;
  c << "sources:\n  salesforce:\n    type: pubsub\n    endpoint: " << emu.grpc_endpoint << "\n"
    << "    plaintext: true\n    topics: [/data/AccountChangeEvent, /event/LoginEventStream]\n"
    << "    reconnect_initial_backoff: 50ms\n    reconnect_max_backoff: 500ms\n"
    << "    auth:\n      flow: client_credentials\n      login_url: " << emu.http_endpoint << "\n"
    << "      client_id: " << emu.client_id << "\n      client_secret: \"" << secret << "\"\n";
  return c.str();
}

TEST_F(Redaction, NoSecretReachesAnyOutput) {
  auto emu = e2e::StartEmulator(
      dir_, std::string("plaintext: true\noauth:\n  client_secret: \"") + kRightSecret + "\"\n");
  ASSERT_TRUE(emu) << "emulator did not start: " << ReadFile(dir_.File("emulator.err"));
  ScriptedLoki loki;

  // Loki takes Basic auth or a bearer token, not both: runs alternate.
  auto loki_config = [&](const std::string& secret, bool bearer) {
    std::ostringstream c;
    c << "data_dir: " << dir_.File("data") << "\n"
      << "checkpoint:\n  type: file\n  path: " << dir_.File("checkpoints.json") << "\n"
      << PubSubSource(*emu, secret) << "sinks:\n  loki:\n    type: loki\n    url: " << loki.url()
      << "\n"
      << (bearer ? std::string("    bearer_token: \"") + kLokiBearer + "\"\n"
                 : std::string("    username: ") + kLokiUser + "\n    password: \"" +
                       kLokiPassword + "\"\n")
      << "    batch: {max_entries: 20, interval: 50ms}\n"
      << "    retry: {initial_backoff: 20ms, max_backoff: 200ms}\n"
      << "server:\n  listen: 127.0.0.1:0\n  auth_token: \"" << kServerToken << "\"\n"
      << "  sink_failing_threshold: 1s\n";
    return c.str();
  };

  // 1. The wrong client secret: the token endpoint refuses, the source retries.
  std::string wrong_cfg = dir_.File("wrong-secret.yaml");
  testing::WriteFile(wrong_cfg, loki_config(kWrongSecret, true));
  std::string log1 = RunUntil(wrong_cfg, "json", "run-wrong-secret", [](const std::string& log) {
    return log.find("authentication failed") != std::string::npos;
  });
  EXPECT_NE(log1.find("authentication failed"), std::string::npos)
      << "the auth error path did not print";
  CollectCli({"config", "check", "-c", wrong_cfg}, "config-check-wrong");
  CollectCli({"state", "show", "-c", wrong_cfg}, "state-show-wrong");

  // 2. The right secret; Loki answers 401, 500, then 400 (dead letters), then 204.
  std::string cfg = dir_.File("loki.yaml");
  testing::WriteFile(cfg, loki_config(kRightSecret, false));
  std::string log2 = RunUntil(cfg, "text", "run-loki", [&](const std::string&) {
    return loki.accepted() >= 3 && testing::FileSize(dir_.File("data/dead-letters.jsonl")) > 0;
  });
  EXPECT_GE(loki.accepted(), 3);
  EXPECT_EQ(loki.unauthenticated(), 0) << "the sink sent pushes without credentials";
  EXPECT_GT(testing::FileSize(dir_.File("data/dead-letters.jsonl")), 0u)
      << "no entry was dead-lettered";
  EXPECT_NE(log2.find("401"), std::string::npos) << "the Loki auth error path did not print";
  CollectCli({"config", "check", "-c", cfg}, "config-check-loki");
  CollectCli({"state", "show", "-c", cfg}, "state-show-loki");
  CollectCli({"--log-format", "json", "state", "show", "-c", cfg}, "state-show-loki-json");
  // 2b. The same with the bearer token, until Loki accepted more.
  std::string bearer_cfg = dir_.File("loki-bearer.yaml");
  testing::WriteFile(bearer_cfg, loki_config(kRightSecret, true));
  int before = loki.accepted();
  RunUntil(bearer_cfg, "json", "run-loki-bearer",
           [&](const std::string&) { return loki.accepted() >= before + 3; });
  EXPECT_GE(loki.accepted(), before + 3);
  CollectCli({"config", "check", "-c", bearer_cfg}, "config-check-loki-bearer");

  // 3. A SQL sink whose server is not there: the DSN carries a password.
  std::ostringstream sql;
  sql << "data_dir: " << dir_.File("data-sql") << "\n"
      << PubSubSource(*emu, kRightSecret)
      << "sinks:\n  db:\n    type: sql\n    dsn: \"postgresql://" << kPgUser << ":" << kPgPassword
      << "@127.0.0.1:" << ClosedPort() << "/events?connect_timeout=2\"\n"
      << "server:\n  listen: 127.0.0.1:0\n  auth_token: \"" << kServerToken << "\"\n";
  std::string sql_cfg = dir_.File("sql.yaml");
  testing::WriteFile(sql_cfg, sql.str());
  for (const char* format : {"json", "text"}) {
    auto r = e2e::RunToEnd(dir_, {ForcepipeBinary(), "--log-format", format, "run", "-c", sql_cfg},
                           std::string("run-sql-") + format, std::chrono::seconds(60));
    Collect(std::string("run-sql-") + format + " stderr", r.err);
    Collect(std::string("run-sql-") + format + " stdout", r.out);
    EXPECT_EQ(r.exit_code, 1) << format << ": a sql sink with no server must fail: " << r.err;
    EXPECT_NE(r.err.find("cannot connect"), std::string::npos)
        << format << ": the sql error path did not print: " << r.err;
  }
  CollectCli({"config", "check", "-c", sql_cfg}, "config-check-sql");
  CollectCli({"state", "show", "-c", sql_cfg}, "state-show-sql");
  CollectCli({"history", "001xx000003DGb2AAG", "-c", sql_cfg}, "history-sql");
  // The password as a query parameter, for `history` and `run`.
  std::ostringstream sqlq;
  sqlq << "data_dir: " << dir_.File("data-sql") << "\n"
       << PubSubSource(*emu, kRightSecret)
       << "sinks:\n  db:\n    type: sql\n    dsn: \"postgresql://" << kPgUser
       << "@127.0.0.1:" << ClosedPort() << "/events?password=" << kPgQueryPassword
       << "&connect_timeout=2\"\n";
  std::string sqlq_cfg = dir_.File("sql-query-password.yaml");
  testing::WriteFile(sqlq_cfg, sqlq.str());
  CollectCli({"history", "001xx000003DGb2AAG", "-c", sqlq_cfg}, "history-sql-query-password");
  CollectCli({"--log-format", "json", "run", "-c", sqlq_cfg}, "run-sql-query-password");

  // 4. An invalid config holding the secrets: the validation error path.
  std::string bad_cfg = dir_.File("bad.yaml");
  testing::WriteFile(bad_cfg, loki_config(kRightSecret, false) + "unknown_top_level_key: 1\n");
  CollectCli({"config", "check", "-c", bad_cfg}, "config-check-bad");
  std::string bad_sink = dir_.File("bad-sink.yaml");
  std::string text = loki_config(kRightSecret, true);
  text.replace(text.find("bearer_token"), 12, "bearer_tokn");
  testing::WriteFile(bad_sink, text);
  CollectCli({"config", "check", "-c", bad_sink}, "config-check-bad-sink");
  CollectCli({"--log-format", "json", "run", "-c", bad_sink}, "run-bad-sink");
  // Both Loki credentials at once: a factory (not schema) error.
  std::string both = dir_.File("both.yaml");
  text = loki_config(kRightSecret, true);
  text.insert(text.find("    bearer_token"),
              std::string("    username: u\n    password: \"") + kLokiPassword + "\"\n");
  testing::WriteFile(both, text);
  CollectCli({"--log-format", "json", "run", "-c", both}, "run-both-credentials");
  CollectCli({"config", "check", "-c", both}, "config-check-both-credentials");

  // Every file the runs left behind.
  for (const auto& [path, content] : e2e::ReadTree(dir_.File("data"))) Collect(path, content);
  for (const auto& [path, content] : e2e::ReadTree(dir_.File("data-sql"))) Collect(path, content);
  Collect("checkpoints.json", ReadFile(dir_.File("checkpoints.json")));
  EXPECT_FALSE(ReadFile(dir_.File("checkpoints.json")).empty()) << "nothing was committed";

  ExpectNoCanary();
}

}  // namespace
}  // namespace forcepipe
