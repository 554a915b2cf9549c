// Crash test: synthetic source -> `forcepipe run` with the sql sink, into
// SQLite, PostgreSQL and MariaDB. The process is SIGKILLed 20 times at random
// moments (each time after it made progress) and restarted; then it runs to
// completion. The events table must then hold exactly the source's events:
// for every key, sequence numbers 1..N with no gap, no duplicate, and the
// committed checkpoint equal to N — the effectively-once contract of a sink
// that is its own checkpoint store.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <thread>
#include <vector>

#include "sinks/sql/connection.h"
#include "sinks/sql/tests/test_util.h"

namespace forcepipe::sql {
namespace {

using testing::CountRows;
using testing::TestDatabase;

constexpr int kKeys = 4;
constexpr int kRate = 4000;  // events/s: production lasts ~20 s, longer than the kill loop
constexpr int kMaxEvents = 80000;
constexpr int kKills = 20;

// count(*) of events; 0 while the first run has not created the schema yet.
int64_t StoredEvents(const Dsn& dsn) {
  auto c = Connect(dsn, {});
  if (!c.ok()) return 0;
  auto rows = (*c)->Query("SELECT count(*) FROM events");
  if (!rows.ok() || rows->empty()) return 0;
  return std::stoll(rows->at(0).at(0).value_or("0"));
}

pid_t StartForcepipe(const std::string& binary, const std::string& config, const std::string& log) {
  pid_t pid = fork();
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    execl(binary.c_str(), binary.c_str(), "run", "-c", config.c_str(), nullptr);
    _exit(127);
  }
  return pid;
}

// Waits up to `timeout` for `pid` to exit; returns its wait status or -1.
int WaitExit(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // poll interval
  }
  return -1;
}

std::string Tail(const std::string& path) {
  std::ifstream in(path);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return all.size() > 4000 ? all.substr(all.size() - 4000) : all;
}

class SqlCrashTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SqlCrashTest, SigkillLoopEndsWithExactlyTheSourcesEvents) {
  const char* binary = std::getenv("FORCEPIPE_BINARY");
  ASSERT_NE(binary, nullptr) << "FORCEPIPE_BINARY unset";
  ASSERT_EQ(access(binary, X_OK), 0) << binary << " is not executable";
  TestDatabase db(GetParam());
  ASSERT_TRUE(db.error.empty()) << db.error;
  testing::TempDir dir;
  const std::string dsn_file = dir.path() + "/dsn";
  std::ofstream(dsn_file) << db.dsn_text() << "\n";
  const std::string config = dir.path() + "/forcepipe.yaml";
  std::ofstream(config) << "data_dir: " << dir.path() << "/state\n"
                        << "sources:\n"
                        << "  gen:\n"
                        << "    type: synthetic\n"
                        << "    rate: " << kRate << "\n"
                        << "    keys: " << kKeys << "\n"
                        << "    entry_size: 300\n"
                        << "    max_events: " << kMaxEvents << "\n"
                        << "sinks:\n"
                        << "  out:\n"
                        << "    type: sql\n"
                        << "    dsn_file: " << dsn_file << "\n"
                        << "    batch: { max_entries: 500, max_bytes: 1MiB, interval: 50ms }\n"
                        << "    retry: { initial_backoff: 50ms, max_backoff: 1s }\n";
  const std::string log = dir.path() + "/forcepipe.log";

  std::mt19937 rng(std::random_device{}());
  int64_t last = 0;
  int kills_mid_stream = 0;
  std::vector<int64_t> progress;
  for (int i = 0; i < kKills; ++i) {
    pid_t pid = StartForcepipe(binary, config, log);
    ASSERT_GT(pid, 0);
    // Wait (deadline) until this run committed something new, then kill it at
    // a random moment shortly after.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    int64_t now_count = last;
    while (std::chrono::steady_clock::now() < deadline) {
      int status;
      ASSERT_EQ(waitpid(pid, &status, WNOHANG), 0) << "forcepipe exited early:\n" << Tail(log);
      now_count = StoredEvents(db.dsn());
      if (now_count > last || now_count >= kMaxEvents) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // poll interval
    }
    ASSERT_TRUE(now_count > last || now_count >= kMaxEvents) << "no progress in run " << i << ":\n"
                                                             << Tail(log);
    // The random crash moment (not a wait for a condition).
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 400));
    kill(pid, SIGKILL);
    ASSERT_NE(WaitExit(pid, std::chrono::seconds(10)), -1);
    last = StoredEvents(db.dsn());
    if (last < kMaxEvents) ++kills_mid_stream;
    progress.push_back(last);
  }
  std::string trace;
  for (int64_t p : progress) trace += " " + std::to_string(p);
  std::cout << "events stored after each SIGKILL:" << trace << "\n";
  // The kills must have hit a live stream, not an idle finished one.
  EXPECT_GE(kills_mid_stream, kKills / 2) << trace;

  // Final run to completion: the source stops after max_events (counted
  // across restarts), the engine drains and the process exits 0 by itself.
  pid_t pid = StartForcepipe(binary, config, log);
  int status = WaitExit(pid, std::chrono::seconds(300));
  if (status == -1) {
    kill(pid, SIGKILL);
    WaitExit(pid, std::chrono::seconds(10));
    FAIL() << "forcepipe did not finish within 300 s:\n" << Tail(log);
  }
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status << "\n"
                                                             << Tail(log);

  // Every event, once.
  auto c = Connect(db.dsn(), {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto rows = (*c)->Query("SELECT event_uuid FROM events");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  std::map<int, std::set<int64_t>> seqs;
  const std::regex id_re("gen-k([0-9]+)-([0-9]+)");
  for (const auto& r : *rows) {
    std::smatch m;
    const std::string id = r[0].value_or("");
    ASSERT_TRUE(std::regex_match(id, m, id_re)) << "unexpected event id " << id;
    bool inserted = seqs[std::stoi(m[1])].insert(std::stoll(m[2])).second;
    ASSERT_TRUE(inserted) << "duplicate " << id;
  }
  auto cps = (*c)->Query("SELECT \"key\", value FROM checkpoints");
  ASSERT_TRUE(cps.ok());
  std::map<std::string, std::string> committed;
  for (const auto& r : *cps) committed[r[0].value_or("")] = r[1].value_or("");
  int64_t total = 0;
  for (const auto& [key, set] : seqs) {
    ASSERT_FALSE(set.empty());
    // Contiguous 1..N: nothing missing in between.
    EXPECT_EQ(*set.begin(), 1) << "key " << key;
    EXPECT_EQ(*set.rbegin(), static_cast<int64_t>(set.size())) << "gap in key " << key;
    // The committed position is exactly the last stored event.
    EXPECT_EQ(committed["synthetic:gen:k" + std::to_string(key)], std::to_string(*set.rbegin()))
        << "key " << key;
    total += static_cast<int64_t>(set.size());
  }
  EXPECT_EQ(static_cast<int64_t>(seqs.size()), kKeys);
  EXPECT_EQ(total, kMaxEvents) << "events stored vs produced";
  EXPECT_EQ(CountRows(db.dsn(), "events"), total);
}

INSTANTIATE_TEST_SUITE_P(Backends, SqlCrashTest,
                         ::testing::Values("sqlite", "postgresql", "mariadb"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace forcepipe::sql
