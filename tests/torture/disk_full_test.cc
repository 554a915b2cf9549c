// A full disk under the real `forcepipe run`: the jsonl sink, its file checkpoint and the
// data dir live on a small private tmpfs that the test fills. forcepipe must keep running
// and keep its position (no line counted that is not on disk, no checkpoint beyond the
// file), survive a SIGKILL while the disk is full, and deliver every ledger event once
// space returns. Then the checkpoint file is damaged: the next start must refuse, naming
// the file, rather than resetting the position.
//
// The tmpfs is mounted in a mount namespace of this test process (unshare(2); root, or an
// unprivileged user namespace), which the forcepipe children inherit.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "testing/fakes.h"
#include "testing/process.h"
#include "tests/e2e/e2e_util.h"

namespace forcepipe::torture {
namespace {

using Json = nlohmann::json;
using forcepipe::testing::Child;
using forcepipe::testing::TempDir;

constexpr char kClientSecret[] = "DiskFullClientSecret7";

bool WriteProcFile(const std::string& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
  return static_cast<bool>(f.flush());
}

// Enters a private mount namespace (a user namespace first when not root) and mounts a
// tmpfs of `bytes` on `dir`. Returns "" or what failed.
std::string MountPrivateTmpfs(const std::string& dir, size_t bytes) {
  if (geteuid() != 0) {
    const uid_t uid = geteuid();
    const gid_t gid = getegid();
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
      return std::string("unshare(user+mount): ") + std::strerror(errno);
    WriteProcFile("/proc/self/setgroups", "deny");
    if (!WriteProcFile("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1") ||
        !WriteProcFile("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1"))
      return "writing uid_map/gid_map failed";
  } else if (unshare(CLONE_NEWNS) != 0) {
    return std::string("unshare(mount): ") + std::strerror(errno);
  }
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    return std::string("making / private: ") + std::strerror(errno);
  const std::string opts = "size=" + std::to_string(bytes);
  if (mount("tmpfs", dir.c_str(), "tmpfs", 0, opts.c_str()) != 0)
    return std::string("mount tmpfs: ") + std::strerror(errno);
  return "";
}

size_t FreeBytes(const std::string& dir) {
  struct statvfs st {};
  if (statvfs(dir.c_str(), &st) != 0) return 0;
  return static_cast<size_t>(st.f_bavail) * st.f_frsize;
}

// Fills `dir` up to `leave` free bytes with one file; returns its path.
std::string Fill(const std::string& dir, size_t leave) {
  const std::string path = dir + "/filler";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  if (fd < 0) return "";
  std::string block(4096, 'f');
  while (FreeBytes(dir) > leave + block.size()) {
    if (::write(fd, block.data(), block.size()) <= 0) break;
  }
  ::fsync(fd);
  ::close(fd);
  return path;
}

std::vector<std::string> JsonlIds(const std::string& path) {
  std::vector<std::string> ids;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    auto j = Json::parse(line, nullptr, false);
    if (j.is_discarded()) continue;  // a torn last line is cut by the sink when it reopens
    ids.push_back(j["metadata"].value("event_id", ""));
  }
  return ids;
}

TEST(DiskFull, FullDiskHoldsThePositionAndNothingIsLostWhenSpaceReturns) {
  TempDir dir;  // the emulator and the logs: on the real disk
  const std::string disk = dir.File("disk");
  std::filesystem::create_directories(disk);
  const std::string mounted = MountPrivateTmpfs(disk, 8u << 20);
  ASSERT_EQ(mounted, "") << "cannot mount a private tmpfs for the full-disk test";

  auto emu = e2e::StartEmulator(
      dir, std::string("plaintext: true\noauth:\n  client_secret: \"") + kClientSecret + "\"\n",
      /*rate=*/400);
  ASSERT_NE(emu, nullptr) << testing::ReadFile(dir.File("emulator.err"));
  std::string admin_line = testing::ReadFile(dir.File("emulator.out"));
  const std::string admin_token =
      Json::parse(admin_line.substr(0, admin_line.find('\n')), nullptr, false)
          .value("admin_token", "");
  ASSERT_FALSE(admin_token.empty());

  const std::string jsonl = disk + "/events.jsonl";
  const std::string checkpoints = disk + "/checkpoints.json";
  const std::string cfg_path = dir.File("forcepipe.yaml");
  testing::WriteFile(
      cfg_path,
      "data_dir: " + disk + "/data\nsources:\n  salesforce:\n    type: pubsub\n" +
          "    endpoint: " + emu->grpc_endpoint +
          "\n    plaintext: true\n    topics: [/data/AccountChangeEvent]\n" +
          "    reconnect_initial_backoff: 50ms\n    reconnect_max_backoff: 500ms\n" +
          "    auth:\n      flow: client_credentials\n      login_url: " + emu->http_endpoint +
          "\n      client_id: " + emu->client_id + "\n      client_secret: \"" + kClientSecret +
          "\"\n" + "checkpoint:\n  type: file\n  path: " + checkpoints +
          "\nsinks:\n  out:\n    type: jsonl\n    path: " + jsonl +
          "\n    batch: {max_entries: 100, interval: 100ms}\n" +
          "    retry: {initial_backoff: 20ms, max_backoff: 200ms}\n");
  int runs = 0;
  auto start = [&] {
    ++runs;
    const std::string tag = dir.File("run-" + std::to_string(runs));
    return Child::Spawn({testing::ForcepipeBinary(), "run", "-c", cfg_path}, tag + ".out",
                        tag + ".err");
  };
  auto err_of = [&](int run) {
    return testing::ReadFile(dir.File("run-" + std::to_string(run) + ".err"));
  };

  // 1. Stream until some events are stored, then fill the disk under it.
  Child run = start();
  ASSERT_TRUE(
      testing::WaitUntil([&] { return JsonlIds(jsonl).size() >= 200; }, std::chrono::seconds(90)))
      << err_of(runs).substr(0, 4000);
  const std::string filler = Fill(disk, 16 * 1024);
  ASSERT_FALSE(filler.empty());
  ASSERT_TRUE(testing::WaitUntil(
      [&] { return err_of(runs).find("No space left on device") != std::string::npos; },
      std::chrono::seconds(90)))
      << "forcepipe never reported the full disk:\n"
      << err_of(runs).substr(0, 4000);
  EXPECT_EQ(run.Wait(std::chrono::milliseconds(0)), -1) << "forcepipe exited on a full disk";

  // 2. SIGKILL while the disk is full, and start again on the still-full disk.
  run.Signal(SIGKILL);
  run.Wait(std::chrono::seconds(20));
  const size_t stored_while_full = JsonlIds(jsonl).size();
  run = start();
  ASSERT_TRUE(testing::WaitUntil(
      [&] { return err_of(runs).find("No space left on device") != std::string::npos; },
      std::chrono::seconds(90)))
      << "the restart on a full disk did not report it:\n"
      << err_of(runs).substr(0, 4000);
  EXPECT_EQ(run.Wait(std::chrono::milliseconds(0)), -1) << "forcepipe exited on a full disk";

  // 3. Space returns: everything the emulator emitted arrives.
  ASSERT_EQ(::unlink(filler.c_str()), 0);
  ASSERT_TRUE(testing::WaitUntil([&] { return JsonlIds(jsonl).size() > stored_while_full + 200; },
                                 std::chrono::seconds(90)))
      << err_of(runs).substr(0, 4000);
  httplib::Client admin(emu->http_endpoint);
  auto paused = admin.Post("/admin/generator/pause", {{"Authorization", "Bearer " + admin_token}},
                           "{}", "application/json");
  ASSERT_TRUE(paused && paused->status == 200);
  std::set<std::string> ledger;
  {
    auto r = e2e::HttpGet(emu->http_endpoint + "/admin/ledger", admin_token);
    auto j = Json::parse(r.body, nullptr, false);
    ASSERT_FALSE(j.is_discarded());
    for (const auto& e : j["events"]) {
      if (e.value("topic", "") == "/data/AccountChangeEvent")
        ledger.insert(e.value("event_id", ""));
    }
  }
  ASSERT_FALSE(ledger.empty());
  bool complete = testing::WaitUntil(
      [&] {
        std::set<std::string> have;
        for (const auto& id : JsonlIds(jsonl)) have.insert(id);
        for (const auto& id : ledger) {
          if (!have.count(id)) return false;
        }
        return true;
      },
      std::chrono::seconds(120));
  run.Signal(SIGTERM);
  int st = run.Wait(std::chrono::seconds(60));
  EXPECT_TRUE(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0) << err_of(runs).substr(0, 4000);
  std::map<std::string, int> seen;
  for (const auto& id : JsonlIds(jsonl)) ++seen[id];
  size_t missing = 0, invented = 0;
  for (const auto& id : ledger) missing += seen.count(id) ? 0 : 1;
  for (const auto& [id, n] : seen) invented += ledger.count(id) ? 0 : 1;
  std::printf(
      "disk full: %zu ledger events, %zu stored before the restart on the full disk, "
      "%zu lines (duplicates allowed), missing %zu, invented %zu\n",
      ledger.size(), stored_while_full, JsonlIds(jsonl).size(), missing, invented);
  EXPECT_TRUE(complete);
  EXPECT_EQ(missing, 0u) << "ledger events not in the sink after the full disk";
  EXPECT_EQ(invented, 0u);

  // 4. A damaged checkpoint file: refused by name, never a silent reset to the beginning.
  const std::string good = testing::ReadFile(checkpoints);
  ASSERT_FALSE(good.empty());
  testing::WriteFile(checkpoints, good.substr(0, good.size() / 2));
  const size_t lines_before = JsonlIds(jsonl).size();
  run = start();
  st = run.Wait(std::chrono::seconds(60));
  ASSERT_NE(st, -1) << "forcepipe kept running on a damaged checkpoint file";
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) != 0);
  EXPECT_NE(err_of(runs).find(checkpoints), std::string::npos)
      << "the refusal does not name the checkpoint file:\n"
      << err_of(runs).substr(0, 2000);
  EXPECT_EQ(JsonlIds(jsonl).size(), lines_before) << "a refused start wrote events";
}

}  // namespace
}  // namespace forcepipe::torture
