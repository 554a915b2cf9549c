// doctor::RunDoctor against a real `forcepipe emulator` child process (OAuth +
// Pub/Sub gRPC), a real Loki-shaped HTTP endpoint, and real files.

#include "doctor/doctor.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <sstream>
#include <thread>

#include "e2e_util.h"

namespace forcepipe {
namespace {

using testing::ReadFile;
using testing::TempDir;
using testing::WaitUntil;

constexpr const char* kSecret = "DoctorTestClientSecret42";
constexpr const char* kWrongSecret = "DoctorTestWrongSecret17";

class Doctor : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    emu_ = e2e::StartEmulator(
               *dir_, std::string("plaintext: true\noauth:\n  client_secret: ") + kSecret + "\n", 5)
               .release();
  }
  static void TearDownTestSuite() {
    delete emu_;
    delete dir_;
  }
  void SetUp() override {
    ASSERT_TRUE(emu_) << "emulator did not start: " << ReadFile(dir_->File("emulator.err"));
  }

  std::string Source(const std::string& secret, const std::string& topics) {
    std::ostringstream c;
    c << "sources:\n  salesforce:\n    type: pubsub\n    endpoint: " << emu_->grpc_endpoint << "\n"
      << "    plaintext: true\n    topics: [" << topics << "]\n"
      << "    auth:\n      flow: client_credentials\n      login_url: " << emu_->http_endpoint
      << "\n"
      << "      client_id: " << emu_->client_id << "\n      client_secret: " << secret << "\n";
    return c.str();
  }
  std::string JsonlConfig(const std::string& secret, const std::string& topics) {
    return "data_dir: " + tmp_.File("data") +
           "\ncheckpoint:\n  type: file\n  path: " + tmp_.File("cp.json") + "\n" +
           Source(secret, topics) +
           "sinks:\n  out:\n    type: jsonl\n    path: " + tmp_.File("out.jsonl") + "\n";
  }
  // Runs the doctor on `yaml`; returns {exit code, output}.
  std::pair<int, std::string> Run(const std::string& yaml, bool json) {
    std::string path = tmp_.File("forcepipe.yaml");
    testing::WriteFile(path, yaml);
    std::ostringstream out;
    int rc = doctor::RunDoctor(path, json, out);
    return {rc, out.str()};
  }
  static nlohmann::json CheckNamed(const nlohmann::json& doc, const std::string& name) {
    for (const auto& c : doc["checks"]) {
      if (c["name"] == name) return c;
    }
    return nullptr;
  }

  static TempDir* dir_;
  static e2e::EmulatorProcess* emu_;
  TempDir tmp_;
};
TempDir* Doctor::dir_ = nullptr;
e2e::EmulatorProcess* Doctor::emu_ = nullptr;

TEST(DoctorReport, IsNotOkWhenEmptyOrWhenAnyCheckFails) {
  doctor::Report r;
  EXPECT_FALSE(r.ok());
  r.checks.push_back({"a", true, "fine", 1});
  EXPECT_TRUE(r.ok());
  r.checks.push_back({"b", false, "broken", 1});
  EXPECT_FALSE(r.ok());
  std::ostringstream text;
  doctor::PrintReport(r, false, text);
  EXPECT_NE(text.str().find("FAIL"), std::string::npos);
  EXPECT_NE(text.str().find("1 of 2 checks failed"), std::string::npos);
}

TEST_F(Doctor, AllChecksPassAgainstTheEmulator) {
  auto [rc, out] =
      Run(JsonlConfig(kSecret, "/data/AccountChangeEvent, /event/LoginEventStream"), false);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("all 6 checks passed"), std::string::npos) << out;
  EXPECT_NE(out.find("client_credentials flow: token minted"), std::string::npos) << out;
  EXPECT_EQ(out.find(kSecret), std::string::npos) << "the client secret was printed:\n" << out;

  auto [jrc, jout] =
      Run(JsonlConfig(kSecret, "/data/AccountChangeEvent, /event/LoginEventStream"), true);
  EXPECT_EQ(jrc, 0);
  auto doc = nlohmann::json::parse(jout);
  EXPECT_TRUE(doc["ok"].get<bool>());
  ASSERT_EQ(doc["checks"].size(), 6u) << jout;
  for (const char* name : {"config", "source salesforce: credentials",
                           "source salesforce: topic /data/AccountChangeEvent",
                           "source salesforce: topic /event/LoginEventStream",
                           "sink out (jsonl): start", "checkpoint store (file)"}) {
    auto c = CheckNamed(doc, name);
    ASSERT_FALSE(c.is_null()) << "no check named " << name << " in " << jout;
    EXPECT_TRUE(c["ok"].get<bool>()) << name << ": " << c["detail"];
  }
}

TEST_F(Doctor, WrongClientSecretFailsCredentialsAndExitsOne) {
  auto [rc, out] = Run(JsonlConfig(kWrongSecret, "/data/AccountChangeEvent"), true);
  EXPECT_EQ(rc, 1) << out;
  auto doc = nlohmann::json::parse(out);
  EXPECT_FALSE(doc["ok"].get<bool>());
  auto cred = CheckNamed(doc, "source salesforce: credentials");
  ASSERT_FALSE(cred.is_null()) << out;
  EXPECT_FALSE(cred["ok"].get<bool>());
  EXPECT_NE(cred["detail"].get<std::string>().find("invalid_client"), std::string::npos)
      << cred["detail"];
  auto topic = CheckNamed(doc, "source salesforce: topic /data/AccountChangeEvent");
  EXPECT_FALSE(topic["ok"].get<bool>());
  // The rest of the config is still checked.
  EXPECT_TRUE(CheckNamed(doc, "sink out (jsonl): start")["ok"].get<bool>());
  EXPECT_EQ(out.find(kWrongSecret), std::string::npos) << "the client secret was printed:\n" << out;
}

TEST_F(Doctor, UnknownTopicFailsOnlyThatCheck) {
  auto [rc, out] =
      Run(JsonlConfig(kSecret, "/data/AccountChangeEvent, /event/No_Such_Event__e"), true);
  EXPECT_EQ(rc, 1) << out;
  auto doc = nlohmann::json::parse(out);
  EXPECT_TRUE(CheckNamed(doc, "source salesforce: credentials")["ok"].get<bool>()) << out;
  EXPECT_TRUE(
      CheckNamed(doc, "source salesforce: topic /data/AccountChangeEvent")["ok"].get<bool>())
      << out;
  auto bad = CheckNamed(doc, "source salesforce: topic /event/No_Such_Event__e");
  ASSERT_FALSE(bad.is_null()) << out;
  EXPECT_FALSE(bad["ok"].get<bool>());
  EXPECT_NE(bad["detail"].get<std::string>().find("GetTopic"), std::string::npos) << bad["detail"];
}

TEST_F(Doctor, ConfigThatDoesNotLoadExitsTwo) {
  auto [rc, out] =
      Run(JsonlConfig(kSecret, "/data/AccountChangeEvent") + "no_such_key: 1\n", false);
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("no_such_key"), std::string::npos) << out;
  EXPECT_NE(out.find("FAIL"), std::string::npos) << out;
  EXPECT_EQ(out.find(kSecret), std::string::npos) << out;
}

TEST_F(Doctor, LokiReadyIsCheckedWithTheSinkCredentials) {
  std::atomic<int> status{200};
  std::atomic<bool> saw_bearer{false};
  httplib::Server loki;
  loki.Get("/ready", [&](const httplib::Request& req, httplib::Response& res) {
    saw_bearer = req.get_header_value("Authorization") == "Bearer DoctorLokiToken99";
    res.status = status;
    res.set_content(
        status == 200 ? "ready" : "Ingester not ready: waiting for 15s after being ready",
        "text/plain");
  });
  int port = loki.bind_to_any_port("127.0.0.1");
  std::thread t([&] { loki.listen_after_bind(); });
  ASSERT_TRUE(WaitUntil([&] { return loki.is_running(); }, std::chrono::seconds(10)));

  std::string yaml =
      "data_dir: " + tmp_.File("data") +
      "\ncheckpoint:\n  type: file\n  path: " + tmp_.File("cp.json") + "\n" +
      Source(kSecret, "/data/AccountChangeEvent") +
      "sinks:\n  logs:\n    type: loki\n    url: http://127.0.0.1:" + std::to_string(port) +
      "\n    bearer_token: DoctorLokiToken99\n";
  auto [rc, out] = Run(yaml, true);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_TRUE(saw_bearer.load()) << "GET /ready did not carry the sink's bearer token";
  EXPECT_TRUE(CheckNamed(nlohmann::json::parse(out), "sink logs (loki): ready")["ok"].get<bool>())
      << out;

  status = 503;
  auto [rc2, out2] = Run(yaml, true);
  EXPECT_EQ(rc2, 1) << out2;
  auto ready = CheckNamed(nlohmann::json::parse(out2), "sink logs (loki): ready");
  EXPECT_FALSE(ready["ok"].get<bool>());
  EXPECT_NE(ready["detail"].get<std::string>().find("503"), std::string::npos) << ready["detail"];
  EXPECT_EQ(out2.find("DoctorLokiToken99"), std::string::npos) << out2;
  loki.stop();
  t.join();
}

TEST_F(Doctor, SqlSinkWithoutAServerFailsStartAndCheckpoints) {
  std::string yaml = "data_dir: " + tmp_.File("data") + "\n" +
                     Source(kSecret, "/data/AccountChangeEvent") +
                     "sinks:\n  db:\n    type: sql\n    dsn: "
                     "\"postgresql://fp:DoctorPgPass55@127.0.0.1:1/x?connect_timeout=2\"\n";
  auto [rc, out] = Run(yaml, true);
  EXPECT_EQ(rc, 1) << out;
  auto doc = nlohmann::json::parse(out);
  EXPECT_FALSE(CheckNamed(doc, "sink db (sql): start")["ok"].get<bool>()) << out;
  EXPECT_FALSE(CheckNamed(doc, "checkpoint store (in sink db)")["ok"].get<bool>()) << out;
  EXPECT_EQ(out.find("DoctorPgPass55"), std::string::npos) << out;

  // A SQLite store works: start passes and the store (the sink itself) reads.
  std::string ok_yaml =
      "data_dir: " + tmp_.File("data") + "\n" + Source(kSecret, "/data/AccountChangeEvent") +
      "sinks:\n  db:\n    type: sql\n    dsn: sqlite://" + tmp_.File("events.db") + "\n";
  auto [rc2, out2] = Run(ok_yaml, false);
  EXPECT_EQ(rc2, 0) << out2;
}

}  // namespace
}  // namespace forcepipe
