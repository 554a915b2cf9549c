// The Grafana dashboard and the alert rules against Debian's real Prometheus: a live
// `forcepipe run` (Pub/Sub from a `forcepipe emulator` child into jsonl) is scraped every
// second by a Prometheus child (loopback, temp dir), which loads
// packaging/prometheus/forcepipe-alerts.yml. Every PromQL expression of
// packaging/grafana/forcepipe-dashboard.json is then evaluated through Prometheus's HTTP
// API and must return data; the rules must load healthy and pass `promtool check rules`
// and their unit tests (`promtool test rules`, which provoke each alert).

#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>

#include <cstdlib>
#include <regex>
#include <sstream>

#include "e2e_util.h"

namespace forcepipe {
namespace {

using testing::Child;
using testing::ForcepipeBinary;
using testing::ReadFile;
using testing::TempDir;
using testing::WaitUntil;

std::string SourceDir() {
  const char* src = std::getenv("FORCEPIPE_SOURCE_DIR");
  return src ? src : ".";
}

void CollectExprs(const nlohmann::json& j, std::vector<std::string>* out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      if (k == "expr" && v.is_string()) out->push_back(v.get<std::string>());
      CollectExprs(v, out);
    }
  } else if (j.is_array()) {
    for (const auto& v : j) CollectExprs(v, out);
  }
}

// Runs `argv`, waits up to 60 s; returns the exit code (-1 when it did not end) and the
// combined output in `*out`.
int RunTool(const TempDir& dir, const std::vector<std::string>& argv, std::string* out) {
  static int n = 0;
  const std::string tag = dir.File("tool-" + std::to_string(++n));
  Child c = Child::Spawn(argv, tag + ".out", tag + ".err");
  int st = c.Wait(std::chrono::seconds(60));
  *out = ReadFile(tag + ".out") + ReadFile(tag + ".err");
  return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST(AlertRules, PassPromtoolCheckAndTheirUnitTests) {
  TempDir dir;
  const std::string rules = SourceDir() + "/packaging/prometheus/forcepipe-alerts.yml";
  std::string out;
  EXPECT_EQ(RunTool(dir, {FP_PROMTOOL_BIN, "check", "rules", rules}, &out), 0) << out;
  EXPECT_NE(out.find("SUCCESS: 6 rules found"), std::string::npos) << out;
  EXPECT_EQ(RunTool(dir,
                    {FP_PROMTOOL_BIN, "test", "rules",
                     SourceDir() + "/packaging/prometheus/forcepipe-alerts.test.yml"},
                    &out),
            0)
      << out;
}

TEST(PrometheusDashboard, EveryQueryReturnsDataFromARealPrometheus) {
  const std::string dash_text =
      ReadFile(SourceDir() + "/packaging/grafana/forcepipe-dashboard.json");
  auto dash = nlohmann::json::parse(dash_text, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(dash.is_discarded());
  std::vector<std::string> exprs;
  CollectExprs(dash, &exprs);
  ASSERT_GE(exprs.size(), 20u);

  TempDir dir;
  auto emu = e2e::StartEmulator(dir, "plaintext: true\n", 200);
  ASSERT_TRUE(emu) << ReadFile(dir.File("emulator.err"));
  std::ostringstream c;
  c << "data_dir: " << dir.File("data") << "\n"
    << "checkpoint:\n  type: file\n  path: " << dir.File("cp.json") << "\n"
    << "sources:\n  salesforce:\n    type: pubsub\n    endpoint: " << emu->grpc_endpoint << "\n"
    << "    plaintext: true\n    topics: [/data/AccountChangeEvent, /event/LoginEventStream]\n"
    << "    auth:\n      flow: client_credentials\n      login_url: " << emu->http_endpoint << "\n"
    << "      client_id: " << emu->client_id << "\n      client_secret: emulator-consumer-secret\n"
    << "sinks:\n  out:\n    type: jsonl\n    path: " << dir.File("out.jsonl") << "\n"
    << "server:\n  listen: 127.0.0.1:0\n";
  testing::WriteFile(dir.File("forcepipe.yaml"), c.str());
  Child run = Child::Spawn({ForcepipeBinary(), "run", "-c", dir.File("forcepipe.yaml")},
                           dir.File("run.out"), dir.File("run.err"));
  std::string base;
  ASSERT_TRUE(WaitUntil(
      [&] {
        base = e2e::StatusBaseUrl(ReadFile(dir.File("run.err")));
        return !base.empty();
      },
      std::chrono::seconds(60)))
      << ReadFile(dir.File("run.err"));
  const std::string target = base.substr(std::string("http://").size());

  // Prometheus takes no port 0: a port that was free a moment ago.
  const int port = testing::ClosedLoopbackPort();
  ASSERT_GT(port, 0);
  testing::WriteFile(dir.File("prometheus.yml"),
                     "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                     "rule_files:\n  - " +
                         SourceDir() +
                         "/packaging/prometheus/forcepipe-alerts.yml\n"
                         "scrape_configs:\n  - job_name: forcepipe\n    static_configs:\n"
                         "      - targets: ['" +
                         target + "']\n");
  Child prom =
      Child::Spawn({FP_PROMETHEUS_BIN, "--config.file=" + dir.File("prometheus.yml"),
                    "--storage.tsdb.path=" + dir.File("tsdb"),
                    "--web.listen-address=127.0.0.1:" + std::to_string(port), "--log.level=warn"},
                   dir.File("prom.out"), dir.File("prom.err"));
  httplib::Client api("127.0.0.1", port);
  api.set_read_timeout(10);
  auto query = [&](const std::string& q) {
    auto r = api.Get("/api/v1/query", httplib::Params{{"query", q}}, httplib::Headers{});
    if (!r || r->status != 200) return nlohmann::json();
    return nlohmann::json::parse(r->body, nullptr, false);
  };
  // Enough scrapes for rate()/increase() over the dashboard's 1m windows: 15 samples of a
  // target that is up, with events flowing.
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto j = query("count_over_time(up{job=\"forcepipe\"}[1m]) >= 15 and up == 1");
        return j.is_object() && !j["data"]["result"].empty() &&
               testing::FileSize(dir.File("out.jsonl")) > 0;
      },
      std::chrono::seconds(120)))
      << "Prometheus never scraped forcepipe 15 times:\n"
      << ReadFile(dir.File("prom.err")).substr(0, 3000);

  size_t with_data = 0;
  for (std::string e : exprs) {
    e = std::regex_replace(e, std::regex(R"(\$instance)"), ".+");
    auto j = query(e);
    ASSERT_TRUE(j.is_object()) << "Prometheus rejected: " << e;
    EXPECT_EQ(j.value("status", ""), "success") << e << "\n" << j.dump();
    EXPECT_FALSE(j["data"]["result"].empty()) << "no data for: " << e;
    if (!j["data"]["result"].empty()) ++with_data;
  }
  // The template variable's query (Grafana's label_values) names a series that must exist.
  auto info = query("forcepipe_build_info");
  EXPECT_FALSE(info["data"]["result"].empty()) << "no forcepipe_build_info series";

  // The alert rules are loaded and evaluate without error against live series.
  auto r = api.Get("/api/v1/rules");
  ASSERT_TRUE(r && r->status == 200);
  auto rules = nlohmann::json::parse(r->body, nullptr, false);
  size_t healthy = 0;
  for (const auto& g : rules["data"]["groups"]) {
    for (const auto& rule : g["rules"]) {
      EXPECT_EQ(rule.value("health", ""), "ok") << rule.dump();
      if (rule.value("health", "") == "ok") ++healthy;
    }
  }
  EXPECT_EQ(healthy, 6u);
  std::cout << with_data << " of " << exprs.size()
            << " dashboard queries returned data from Prometheus; " << healthy
            << " alert rules loaded healthy\n";

  prom.Signal(SIGTERM);
  prom.Wait(std::chrono::seconds(30));
  run.Signal(SIGTERM);
  EXPECT_NE(run.Wait(std::chrono::seconds(60)), -1);
}

}  // namespace
}  // namespace forcepipe
