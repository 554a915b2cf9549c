// Reliability suite: the real `forcepipe run` streaming from a real `forcepipe emulator`
// (Pub/Sub over gRPC, OAuth over HTTP) into each sink — SQLite, PostgreSQL, MariaDB, jsonl,
// a Loki receiver — SIGKILLed at random moments (each time after it made progress, never on
// a timer) and restarted, while the emulator injects faults between kills (stream resets,
// UNAVAILABLE on Subscribe, expired tokens, refused tokens) and the Loki receiver has an
// outage (503s). At the end the generator is paused, forcepipe runs until the sink holds
// every ledger event, and the sink is compared with the emulator's ledger event by event:
// nothing missing, nothing invented; duplicates only where at-least-once allows them (jsonl,
// Loki), none in the SQL sink (effectively-once).
//
// Size: FORCEPIPE_TORTURE_KILLS kills per sink (default 5 for CI; `FORCEPIPE_TORTURE_KILLS=20
// ctest -R torture_test` for a bigger run). A summary table is printed at the end
// (docs/reliability.md keeps the last one).

#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "sinks/loki/tests/loki_receiver.h"
#include "sinks/sql/connection.h"
#include "sinks/sql/dsn.h"
#include "sinks/sql/tests/test_util.h"
#include "testing/process.h"
#include "tests/e2e/e2e_util.h"

namespace forcepipe::torture {
namespace {

using Json = nlohmann::json;
using forcepipe::testing::Child;
using forcepipe::testing::TempDir;

// Polls `pred` every 50 ms (reading a sink is a query or a file scan, too costly for a tight
// loop) until it holds or `timeout` passes; a poll interval, not a wait for an event.
bool WaitUntil(const std::function<bool()>& pred, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return pred();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

constexpr char kClientSecret[] = "TortureClientSecret42";
const std::vector<std::string> kTopics = {"/data/AccountChangeEvent", "/data/ContactChangeEvent",
                                          "/event/LoginEventStream", "/event/Order_Event__e"};

int Kills() {
  const char* v = std::getenv("FORCEPIPE_TORTURE_KILLS");
  return v != nullptr && std::atoi(v) > 0 ? std::atoi(v) : 5;
}

struct Row {
  std::string sink;
  int runs = 0;
  int kills = 0;
  int faults = 0;
  size_t events = 0;
  size_t missing = 0;
  size_t duplicated = 0;
  size_t invented = 0;
};
std::vector<Row>& Table() {
  static std::vector<Row> rows;
  return rows;
}

// The emulator child plus its admin API.
class Emulator {
 public:
  explicit Emulator(const TempDir& dir) {
    proc_ = e2e::StartEmulator(
        dir, std::string("plaintext: true\noauth:\n  client_secret: \"") + kClientSecret + "\"\n",
        /*rate=*/400);
    if (!proc_) return;
    std::string line = testing::ReadFile(dir.File("emulator.out"));
    line = line.substr(0, line.find('\n'));
    admin_token_ = Json::parse(line, nullptr, false).value("admin_token", "");
  }
  bool ok() const { return proc_ != nullptr && !admin_token_.empty(); }
  const e2e::EmulatorProcess& proc() const { return *proc_; }

  // POST an admin call; returns the HTTP status (0 = transport error).
  int Post(const std::string& path, const Json& body = Json::object()) const {
    httplib::Client c(proc_->http_endpoint);
    c.set_read_timeout(10);
    auto r = c.Post(path.c_str(), {{"Authorization", "Bearer " + admin_token_}}, body.dump(),
                    "application/json");
    return r ? r->status : 0;
  }

  // Event id -> topic, for every ledgered event of the subscribed topics.
  std::map<std::string, std::string> Ledger() const {
    std::map<std::string, std::string> out;
    auto r = e2e::HttpGet(proc_->http_endpoint + "/admin/ledger", admin_token_);
    auto j = Json::parse(r.body, nullptr, false);
    if (j.is_discarded()) return out;
    std::set<std::string> topics(kTopics.begin(), kTopics.end());
    for (const auto& e : j["events"]) {
      std::string topic = e.value("topic", "");
      if (topics.count(topic)) out[e.value("event_id", "")] = topic;
    }
    return out;
  }

 private:
  std::unique_ptr<e2e::EmulatorProcess> proc_;
  std::string admin_token_;
};

// What a sink under test holds: every event id it stored, with repeats.
class SinkUnderTest {
 public:
  virtual ~SinkUnderTest() = default;
  virtual std::string Config(const TempDir& dir) = 0;  // the `sinks:` (+ checkpoint) section
  virtual std::vector<std::string> StoredIds() = 0;
  virtual bool at_least_once() const = 0;  // duplicates allowed
  virtual void Outage(bool /*on*/) {}      // make the sink refuse for a while
  // The file checkpoint store's path, "" when positions live in the sink itself.
  virtual std::string CheckpointFile() const { return checkpoint_file_; }

 protected:
  std::string checkpoint_file_;
};

class SqlSinkUnderTest : public SinkUnderTest {
 public:
  explicit SqlSinkUnderTest(const std::string& backend) : db_(backend) {}
  std::string error() const { return db_.error; }
  std::string Config(const TempDir&) override {
    return "sinks:\n  store:\n    type: sql\n    dsn: \"" + db_.dsn_text() +
           "\"\n    batch: {max_entries: 200, interval: 100ms}\n";
  }
  std::vector<std::string> StoredIds() override {
    std::vector<std::string> ids;
    auto c = sql::Connect(db_.dsn(), {});
    if (!c.ok()) return ids;
    auto rows = (*c)->Query("SELECT event_uuid FROM events");
    if (!rows.ok()) return ids;  // before the first run created the schema
    for (const auto& r : *rows) ids.push_back(r.at(0).value_or(""));
    return ids;
  }
  bool at_least_once() const override { return false; }

 private:
  sql::testing::TestDatabase db_;
};

class JsonlSinkUnderTest : public SinkUnderTest {
 public:
  std::string Config(const TempDir& dir) override {
    path_ = dir.File("events.jsonl");
    checkpoint_file_ = dir.File("checkpoints.json");
    return "checkpoint:\n  type: file\n  path: " + checkpoint_file_ +
           "\nsinks:\n  out:\n    type: jsonl\n    path: " + path_ +
           "\n    batch: {max_entries: 200, interval: 100ms}\n";
  }
  std::vector<std::string> StoredIds() override {
    std::vector<std::string> ids;
    std::ifstream in(path_);
    std::string line;
    while (std::getline(in, line)) {
      auto j = Json::parse(line, nullptr, false);
      if (j.is_discarded()) continue;  // a torn last line is cut by the sink when it reopens
      ids.push_back(j["metadata"].value("event_id", ""));
    }
    return ids;
  }
  bool at_least_once() const override { return true; }

 private:
  std::string path_;
};

class LokiSinkUnderTest : public SinkUnderTest {
 public:
  LokiSinkUnderTest() { started_ = receiver_.Start(0); }
  bool started() const { return started_.ok(); }
  std::string Config(const TempDir& dir) override {
    checkpoint_file_ = dir.File("checkpoints.json");
    return "checkpoint:\n  type: file\n  path: " + checkpoint_file_ +
           "\nsinks:\n  loki:\n    type: loki\n    url: " + receiver_.url() +
           "\n    batch: {max_entries: 200, interval: 100ms}\n"
           "    retry: {initial_backoff: 20ms, max_backoff: 200ms}\n";
  }
  std::vector<std::string> StoredIds() override {
    std::vector<std::string> ids;
    for (const auto& e : receiver_.stored()) {
      for (const auto& [k, v] : e.metadata) {
        if (k == "event_id") ids.push_back(v);
      }
    }
    return ids;
  }
  bool at_least_once() const override { return true; }
  void Outage(bool on) override {
    if (!on) return;
    for (int i = 0; i < 5; ++i) receiver_.Script({503, "Ingester is unavailable", {}, {}});
  }

 private:
  loki_test::LokiReceiver receiver_;
  Status started_;
};

std::unique_ptr<SinkUnderTest> MakeSink(const std::string& kind, std::string* error) {
  if (kind == "jsonl") return std::make_unique<JsonlSinkUnderTest>();
  if (kind == "loki") {
    auto s = std::make_unique<LokiSinkUnderTest>();
    if (!s->started()) *error = "loki receiver did not start";
    return s;
  }
  auto s = std::make_unique<SqlSinkUnderTest>(kind);
  *error = s->error();
  return s;
}

class Torture : public ::testing::TestWithParam<std::string> {
 protected:
  static void TearDownTestSuite() {
    std::printf("\n| sink | runs | kills | faults | events | missing | duplicated | invented |\n");
    std::printf("|---|---|---|---|---|---|---|---|\n");
    for (const Row& r : Table()) {
      std::printf("| %s | %d | %d | %d | %zu | %zu | %zu | %zu |\n", r.sink.c_str(), r.runs,
                  r.kills, r.faults, r.events, r.missing, r.duplicated, r.invented);
    }
    std::printf("(FORCEPIPE_TORTURE_KILLS=%d)\n", Kills());
  }
};

TEST_P(Torture, RandomSigkillsAndFaultsLoseNothing) {
  const std::string kind = GetParam();
  TempDir dir;
  Emulator emu(dir);
  ASSERT_TRUE(emu.ok()) << "emulator did not start: "
                        << testing::ReadFile(dir.File("emulator.err"));
  std::string error;
  auto sink = MakeSink(kind, &error);
  ASSERT_TRUE(error.empty()) << error;

  std::ostringstream cfg;
  cfg << "data_dir: " << dir.File("data") << "\n"
      << "sources:\n  salesforce:\n    type: pubsub\n    endpoint: " << emu.proc().grpc_endpoint
      << "\n    plaintext: true\n    topics: [";
  for (size_t i = 0; i < kTopics.size(); ++i) cfg << (i ? ", " : "") << kTopics[i];
  cfg << "]\n    reconnect_initial_backoff: 50ms\n    reconnect_max_backoff: 500ms\n"
      << "    auth:\n      flow: client_credentials\n      login_url: " << emu.proc().http_endpoint
      << "\n      client_id: " << emu.proc().client_id << "\n      client_secret: \""
      << kClientSecret << "\"\n"
      << sink->Config(dir) << "server:\n  listen: 127.0.0.1:0\n";
  const std::string cfg_path = dir.File("forcepipe.yaml");
  testing::WriteFile(cfg_path, cfg.str());

  Row row;
  row.sink = kind;
  std::mt19937 rng(std::random_device{}());
  auto start = [&](const std::string& tag) {
    ++row.runs;
    return Child::Spawn({testing::ForcepipeBinary(), "run", "-c", cfg_path}, dir.File(tag + ".out"),
                        dir.File(tag + ".err"));
  };
  // Faults the emulator (and the Loki receiver) inject while forcepipe streams.
  auto fault = [&](int k) {
    ++row.faults;
    switch (k % 5) {
      case 0:
        return emu.Post("/admin/faults/reset-streams") == 200;
      case 1:
        return emu.Post("/admin/faults/fail-next",
                        {{"rpc", "Subscribe"}, {"fault", "service_unavailable"}, {"times", 2}}) ==
               200;
      case 2:
        return emu.Post("/admin/faults/expire-tokens") == 200;
      case 3:
        return emu.Post("/admin/faults/fail-next",
                        {{"rpc", "Subscribe"}, {"fault", "auth"}, {"times", 1}}) == 200;
      default:
        sink->Outage(true);
        return true;
    }
  };

  const int kills = Kills();
  for (int k = 0; k < kills; ++k) {
    const size_t before = sink->StoredIds().size();
    const size_t want = before + 50 + rng() % 400;
    Child run = start("run-" + std::to_string(k));
    if (k % 2 == 1) {
      EXPECT_TRUE(fault(k)) << "fault " << k << " was not accepted";
    }
    ASSERT_TRUE(
        WaitUntil([&] { return sink->StoredIds().size() >= want; }, std::chrono::seconds(90)))
        << kind << ": run " << k << " made no progress (" << sink->StoredIds().size() << " of "
        << want << ")\n"
        << testing::ReadFile(dir.File("run-" + std::to_string(k) + ".err")).substr(0, 4000);
    run.Signal(SIGKILL);
    run.Wait(std::chrono::seconds(20));
    ++row.kills;
    // Every third kill, a damaged checkpoint file (torn to half its size): the next start
    // must refuse, naming the file, and store nothing; then the saved file is put back.
    const std::string cp = sink->CheckpointFile();
    if (k % 3 == 2 && !cp.empty() && testing::FileSize(cp) > 0) {
      const std::string good = testing::ReadFile(cp);
      testing::WriteFile(cp, good.substr(0, good.size() / 2));
      const size_t stored = sink->StoredIds().size();
      const std::string tag = "refused-" + std::to_string(k);
      Child refused = start(tag);
      int st = refused.Wait(std::chrono::seconds(60));
      ASSERT_NE(st, -1) << kind << ": forcepipe kept running on a damaged checkpoint file";
      EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) != 0);
      EXPECT_NE(testing::ReadFile(dir.File(tag + ".err")).find(cp), std::string::npos)
          << kind << ": the refusal does not name " << cp;
      EXPECT_EQ(sink->StoredIds().size(), stored) << kind << ": a refused start stored events";
      testing::WriteFile(cp, good);
    }
  }

  // Stop generating, then let one run deliver everything the ledger holds.
  ASSERT_EQ(emu.Post("/admin/generator/pause"), 200);
  const std::map<std::string, std::string> ledger = emu.Ledger();
  ASSERT_FALSE(ledger.empty());
  Child last = start("run-final");
  bool complete = WaitUntil(
      [&] {
        std::set<std::string> have;
        for (const auto& id : sink->StoredIds()) have.insert(id);
        for (const auto& [id, topic] : ledger) {
          if (!have.count(id)) return false;
        }
        return true;
      },
      std::chrono::seconds(120));
  last.Signal(SIGTERM);
  int st = last.Wait(std::chrono::seconds(60));
  EXPECT_TRUE(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
      << "the final run did not stop cleanly on SIGTERM";

  std::map<std::string, int> seen;
  for (const auto& id : sink->StoredIds()) ++seen[id];
  row.events = ledger.size();
  for (const auto& [id, topic] : ledger) {
    if (!seen.count(id)) ++row.missing;
  }
  for (const auto& [id, n] : seen) {
    if (!ledger.count(id)) ++row.invented;
    if (n > 1) row.duplicated += n - 1;
  }
  Table().push_back(row);
  EXPECT_TRUE(complete) << kind << ": the sink never held every ledger event";
  EXPECT_EQ(row.missing, 0u) << kind << ": events in the ledger but not in the sink";
  EXPECT_EQ(row.invented, 0u) << kind << ": events in the sink the emulator never emitted";
  if (!sink->at_least_once()) {
    EXPECT_EQ(row.duplicated, 0u) << kind << ": effectively-once broken";
  }
  EXPECT_EQ(row.kills, kills);
}

INSTANTIATE_TEST_SUITE_P(Sinks, Torture,
                         ::testing::Values("sqlite", "postgresql", "mariadb", "jsonl", "loki"),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

}  // namespace
}  // namespace forcepipe::torture
