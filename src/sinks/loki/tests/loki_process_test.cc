// Process test: synthetic source -> `forcepipe run` with the loki sink -> the
// standalone loki_receiver. The receiver is SIGKILLed and restarted on the same
// port mid-stream, then forcepipe is SIGKILLed and restarted. Afterwards every
// synthetic id up to the committed checkpoint of each key must have arrived at
// least once, with its labels and structured metadata.
//
// Needs $FORCEPIPE_BINARY (fails when it does not exist) and
// $LOKI_RECEIVER_BINARY (set by CMake). FORCEPIPE_KEEP_TEMP=1 keeps the temp dir.

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "testing/fakes.h"
#include "testing/process.h"

namespace forcepipe {
namespace {

using namespace std::chrono_literals;
using testing::Child;
using testing::TempDir;
using testing::WaitUntil;

size_t CountLines(const std::string& path) {
  std::ifstream in(path);
  size_t n = 0;
  std::string line;
  while (std::getline(in, line)) ++n;
  return n;
}

bool WaitForLines(const std::string& path, size_t n, Duration timeout) {
  return WaitUntil([&] { return CountLines(path) >= n; }, timeout);
}

// Collects "synthetic:gen:k<K>" -> SEQ from anywhere in the checkpoint file.
void FindCheckpoints(const nlohmann::json& j, std::map<int, long>* out) {
  static const std::regex kKey("synthetic:gen:k([0-9]+)");
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      std::smatch m;
      if (std::regex_match(k, m, kKey)) {
        if (v.is_string()) {
          (*out)[std::stoi(m[1])] = std::stol(v.get<std::string>());
        } else if (v.is_number()) {
          (*out)[std::stoi(m[1])] = v.get<long>();
        } else if (v.is_object() && v.contains("value")) {
          const auto& x = v["value"];
          (*out)[std::stoi(m[1])] = x.is_string() ? std::stol(x.get<std::string>()) : x.get<long>();
        }
      } else {
        FindCheckpoints(v, out);
      }
    }
  } else if (j.is_array()) {
    for (const auto& v : j) FindCheckpoints(v, out);
  }
}

std::map<int, long> ReadCheckpoints(const std::string& path) {
  std::map<int, long> out;
  std::ifstream in(path);
  if (!in) return out;
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = nlohmann::json::parse(ss.str(), nullptr, false);
  if (!j.is_discarded()) FindCheckpoints(j, &out);
  return out;
}

// Param: extra sink options (the encoding under test).
class LokiProcessTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    binary_ = testing::ForcepipeBinary();
    const char* recv = std::getenv("LOKI_RECEIVER_BINARY");
    ASSERT_TRUE(!binary_.empty() && std::filesystem::exists(binary_))
        << "FORCEPIPE_BINARY (" << binary_ << ") does not exist: build the forcepipe target first";
    ASSERT_TRUE(recv && std::filesystem::exists(recv)) << "LOKI_RECEIVER_BINARY not set";
    receiver_bin_ = recv;
  }

  // Starts the receiver on `port` (0 = any) and reads the port it prints.
  void StartReceiver(int port) {
    std::string out = dir_.File("receiver.out." + std::to_string(++receiver_starts_));
    receiver_ = Child::Spawn({receiver_bin_, "--out", Received(), "--port", std::to_string(port)},
                             out, dir_.File("receiver.log"));
    ASSERT_TRUE(
        WaitUntil([&] { return testing::ReadFile(out).find('\n') != std::string::npos; }, 10s))
        << "receiver did not print its port";
    std::string text = testing::ReadFile(out);
    ASSERT_EQ(text.rfind("port=", 0), 0u) << text;
    port_ = std::stoi(text.substr(5));
    ASSERT_GT(port_, 0);
  }
  void StartForcepipe() {
    forcepipe_ = Child::Spawn({binary_, "run", "-c", dir_.File("forcepipe.yaml")},
                              dir_.File("forcepipe.out"), dir_.File("forcepipe.log"));
  }
  void WriteConfig() {
    std::ofstream cfg(dir_.File("forcepipe.yaml"));
    cfg << "data_dir: " << dir_.File("state") << "\n"
        << "checkpoint:\n  type: file\n  path: " << Checkpoints() << "\n"
        << "sources:\n  gen:\n    type: synthetic\n    rate: 3000\n    keys: 4\n"
        << "    entry_size: 200\n    max_events: 0\n"
        << "sinks:\n  out:\n    type: loki\n    url: http://127.0.0.1:" << port_ << "\n"
        << "    timeout: 2s\n"
        << GetParam() << "    labels: {environment: test}\n"
        << "    batch: { max_entries: 500, max_bytes: 1MiB, interval: 100ms }\n"
        << "    max_in_flight: 1\n"
        << "    retry: { initial_backoff: 50ms, max_backoff: 500ms }\n";
  }
  std::string Received() const { return dir_.File("received.jsonl"); }
  std::string Checkpoints() const { return dir_.File("checkpoints.json"); }

  std::string binary_, receiver_bin_;
  TempDir dir_;
  Child receiver_, forcepipe_;
  int port_ = 0;
  int receiver_starts_ = 0;
};

TEST_P(LokiProcessTest, EverythingUpToTheCheckpointArrivesAcrossReceiverAndForcepipeKills) {
  StartReceiver(0);
  WriteConfig();
  StartForcepipe();
  ASSERT_TRUE(WaitForLines(Received(), 1000, 60s)) << "nothing arrived; see " << dir_.path();

  // Receiver outage: SIGKILL, 1 s down (the scenario, not a wait), restart on the same port.
  receiver_.Signal(SIGKILL);
  ASSERT_NE(receiver_.Wait(10s), -1);
  size_t before_outage = CountLines(Received());
  std::this_thread::sleep_for(1s);
  StartReceiver(port_);
  ASSERT_TRUE(WaitForLines(Received(), before_outage + 1500, 60s)) << "no recovery after outage";

  // forcepipe crash: SIGKILL, restart, resume from the committed checkpoint.
  forcepipe_.Signal(SIGKILL);
  ASSERT_NE(forcepipe_.Wait(10s), -1);
  std::map<int, long> at_crash = ReadCheckpoints(Checkpoints());
  ASSERT_EQ(at_crash.size(), 4u) << "checkpoint file has no synthetic keys";
  size_t before_restart = CountLines(Received());
  StartForcepipe();
  ASSERT_TRUE(WaitForLines(Received(), before_restart + 1500, 60s)) << "no progress after restart";

  forcepipe_.Signal(SIGTERM);
  int status = forcepipe_.Wait(30s);
  ASSERT_NE(status, -1) << "forcepipe did not exit on SIGTERM";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;

  std::map<int, long> committed = ReadCheckpoints(Checkpoints());
  ASSERT_EQ(committed.size(), 4u);
  std::map<int, std::set<long>> seen;
  std::ifstream in(Received());
  std::string text;
  size_t lines = 0;
  while (std::getline(in, text)) {
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded()) continue;  // a line torn by the receiver's SIGKILL
    ++lines;
    auto line = nlohmann::json::parse(j["line"].get<std::string>(), nullptr, false);
    ASSERT_FALSE(line.is_discarded()) << text;
    std::string id = line["id"].get<std::string>();
    EXPECT_EQ(j["metadata"]["event_id"], id);
    EXPECT_EQ(j["labels"]["source"], "synthetic");
    EXPECT_EQ(j["labels"]["environment"], "test");
    seen[line["key"].get<int>()].insert(line["seq"].get<long>());
  }
  ASSERT_GT(lines, 0u);
  size_t unique = 0;
  for (const auto& [k, seqs] : seen) unique += seqs.size();
  std::cout << "received " << lines << " entries, " << unique << " unique; committed:";
  for (const auto& [k, seq] : committed) std::cout << " k" << k << "=" << seq;
  std::cout << "; at forcepipe kill:";
  for (const auto& [k, seq] : at_crash) std::cout << " k" << k << "=" << seq;
  std::cout << std::endl;
  for (const auto& [key, seq] : committed) {
    EXPECT_GE(seq, at_crash[key]) << "checkpoint went backwards for k" << key;
    EXPECT_GT(seq, 0) << "no progress on k" << key;
    long missing = 0, first_missing = -1;
    for (long s = 1; s <= seq; ++s) {
      if (!seen[key].count(s)) {
        if (first_missing < 0) first_missing = s;
        ++missing;
      }
    }
    EXPECT_EQ(missing, 0) << "k" << key << ": " << missing << " ids up to committed " << seq
                          << " never arrived, first gen-k" << key << "-" << first_missing;
  }
}

INSTANTIATE_TEST_SUITE_P(Encodings, LokiProcessTest,
                         ::testing::Values("    encoding: protobuf\n",
                                           "    encoding: json\n    compression: gzip\n"),
                         [](const auto& info) {
                           return info.index == 0 ? std::string("ProtobufSnappy")
                                                  : std::string("JsonGzip");
                         });

}  // namespace
}  // namespace forcepipe
