// packaging/grafana/forcepipe-dashboard.json parses, is a well-formed
// dashboard, and every forcepipe_* metric its queries name is served by a live
// /metrics of `forcepipe run` (Pub/Sub source against a `forcepipe emulator`
// child, jsonl sink, file checkpoints).

#include <gtest/gtest.h>
#include <signal.h>

#include <regex>
#include <set>
#include <sstream>

#include "e2e_util.h"

namespace forcepipe {
namespace {

using testing::Child;
using testing::ForcepipeBinary;
using testing::ReadFile;
using testing::TempDir;
using testing::WaitUntil;

void CollectQueries(const nlohmann::json& j, std::vector<std::string>* out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      if ((k == "expr" || k == "definition") && v.is_string()) out->push_back(v.get<std::string>());
      CollectQueries(v, out);
    }
  } else if (j.is_array()) {
    for (const auto& v : j) CollectQueries(v, out);
  }
}

// Metric family names in a Prometheus text exposition (histogram series keep
// their _bucket/_sum/_count suffixes: queries name those).
std::set<std::string> ServedMetrics(const std::string& text) {
  std::set<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    out.insert(line.substr(0, line.find_first_of("{ ")));
  }
  return out;
}

nlohmann::json LoadDashboard() {
  const char* src = std::getenv("FORCEPIPE_SOURCE_DIR");
  std::string path = std::string(src ? src : ".") + "/packaging/grafana/forcepipe-dashboard.json";
  std::string text = ReadFile(path);
  EXPECT_FALSE(text.empty()) << "cannot read " << path;
  return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
}

TEST(GrafanaDashboard, IsWellFormed) {
  auto d = LoadDashboard();
  ASSERT_FALSE(d.is_discarded()) << "the dashboard is not valid JSON";
  EXPECT_EQ(d.value("uid", ""), "forcepipe-overview");
  ASSERT_TRUE(d["panels"].is_array());
  std::set<int> ids;
  for (const auto& p : d["panels"]) {
    EXPECT_TRUE(ids.insert(p["id"].get<int>()).second) << "duplicate panel id " << p["id"];
    ASSERT_TRUE(p.contains("gridPos")) << p["title"];
    if (p["type"] == "row") continue;
    ASSERT_FALSE(p["targets"].empty()) << p["title"] << " has no query";
    for (const auto& t : p["targets"]) {
      EXPECT_EQ(t["datasource"]["uid"], "${datasource}") << p["title"];
      EXPECT_NE(t["expr"].get<std::string>().find("$instance"), std::string::npos)
          << p["title"] << ": query ignores the instance variable";
    }
  }
  EXPECT_GE(ids.size(), 10u);
}

TEST(GrafanaDashboard, EveryQueriedMetricIsServed) {
  auto d = LoadDashboard();
  ASSERT_FALSE(d.is_discarded());
  std::vector<std::string> queries;
  CollectQueries(d, &queries);
  std::set<std::string> wanted;
  static const std::regex name(R"(forcepipe_[a-z0-9_]+)");
  for (const auto& q : queries) {
    for (auto it = std::sregex_iterator(q.begin(), q.end(), name); it != std::sregex_iterator();
         ++it) {
      wanted.insert(it->str());
    }
  }
  ASSERT_GE(wanted.size(), 15u);

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
  std::string cfg = dir.File("forcepipe.yaml");
  testing::WriteFile(cfg, c.str());
  Child run = Child::Spawn({ForcepipeBinary(), "--log-format", "json", "run", "-c", cfg},
                           dir.File("run.out"), dir.File("run.err"));
  std::string base, metrics;
  // Wait until events were delivered and Pub/Sub series exist, so every family is present.
  ASSERT_TRUE(WaitUntil(
      [&] {
        if (base.empty()) base = e2e::StatusBaseUrl(ReadFile(dir.File("run.err")));
        if (base.empty()) return false;
        metrics = e2e::HttpGet(base + "/metrics").body;
        return metrics.find("forcepipe_pubsub_events_total") != std::string::npos &&
               metrics.find("forcepipe_sink_push_duration_seconds_bucket") != std::string::npos &&
               testing::FileSize(dir.File("out.jsonl")) > 0;
      },
      std::chrono::seconds(60)))
      << ReadFile(dir.File("run.err")) << "\n"
      << metrics;
  metrics = e2e::HttpGet(base + "/metrics").body;
  auto served = ServedMetrics(metrics);
  for (const auto& m : wanted) {
    EXPECT_TRUE(served.count(m)) << "the dashboard queries " << m
                                 << ", which /metrics does not serve";
  }
  std::cout << wanted.size() << " metric names queried by the dashboard, all served ("
            << served.size() << " served)\n";
  run.Signal(SIGTERM);
  EXPECT_NE(run.Wait(std::chrono::seconds(60)), -1);
}

}  // namespace
}  // namespace forcepipe
