// FileCheckpointStore specifics: crash safety, the instance lock, corrupt and
// truncated files, write failures. The shared contract is in contract_test.cc.

#include "checkpoint/file_store.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "checkpoint/tests/test_util.h"

namespace forcepipe {
namespace {

using testing_util::ReadFileOrEmpty;
using testing_util::TempDir;
using testing_util::WriteFile;

std::unique_ptr<FileCheckpointStore> MustOpen(const std::string& path) {
  auto r = FileCheckpointStore::Open(path);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

// Reads exactly n bytes unless EOF; returns bytes read.
size_t ReadFull(int fd, void* buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::read(fd, static_cast<char*>(buf) + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  return got;
}

TEST(FileCheckpointStore, MissingFileIsEmptyAndNotCreatedUntilCommit) {
  TempDir dir;
  const std::string path = dir.File("a/b/cp.json");
  auto store = MustOpen(path);
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->LoadAll()->empty());
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_TRUE(std::filesystem::exists(path + ".lock"));
  ASSERT_TRUE(store->Commit(CheckpointMap{{"k", "v"}}).ok());
  EXPECT_TRUE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST(FileCheckpointStore, WritesTheDocumentFormat) {
  TempDir dir;
  const std::string path = dir.File("cp.json");
  auto store = MustOpen(path);
  CommitRequest r;
  r.set = {{"synthetic:gen:k1", "42"}, {"bin", std::string("\xff\x00\x01", 3)}};
  r.epoch = 3;
  ASSERT_TRUE(store->Commit(r).ok());
  auto doc = nlohmann::json::parse(ReadFileOrEmpty(path));
  EXPECT_EQ(doc["format"], "forcepipe-checkpoints");
  EXPECT_EQ(doc["version"], 1);
  EXPECT_EQ(doc["epoch"], 3);
  EXPECT_EQ(doc["checkpoints"]["synthetic:gen:k1"], "42");
  EXPECT_EQ(doc["checkpoints"]["bin"]["base64"], "/wAB");
}

TEST(FileCheckpointStore, GarbageFileIsCorruptionNamingTheFile) {
  TempDir dir;
  const std::string path = dir.File("cp.json");
  for (const std::string bad :
       {"not json at all", "", "[1,2]", "{\"checkpoints\":{}}",
        "{\"format\":\"forcepipe-checkpoints\",\"version\":1,\"epoch\":-1,\"checkpoints\":{}}",
        "{\"format\":\"forcepipe-checkpoints\",\"version\":1,\"epoch\":0,\"checkpoints\":{\"a\":1}"
        "}",
        "{\"format\":\"forcepipe-checkpoints\",\"version\":1,\"epoch\":0,"
        "\"checkpoints\":{\"a\":{\"base64\":\"!!\"}}}"}) {
    WriteFile(path, bad);
    auto r = FileCheckpointStore::Open(path);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << r.status().ToString();
    EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().message();
    EXPECT_EQ(ReadFileOrEmpty(path), bad) << "the damaged file must be left alone";
  }
}

TEST(FileCheckpointStore, EditedButStillValidJsonIsCorruptionNamingTheFile) {
  TempDir dir;
  const std::string path = dir.File("cp.json");
  {
    auto store = MustOpen(path);
    CommitRequest r;
    r.set = {{"synthetic:gen:k0", "42"}, {"other", "7"}};
    r.epoch = 3;
    ASSERT_TRUE(store->Commit(r).ok());
  }
  const std::string good = ReadFileOrEmpty(path);
  auto edit = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) s.replace(at, from.size(), to);
    return s;
  };
  for (const std::string bad : {edit("\"42\"", "\"43\""), edit("\"epoch\": 3", "\"epoch\": 0"),
                                edit("\"other\": \"7\"", "\"another\": \"7\"")}) {
    ASSERT_TRUE(nlohmann::json::accept(bad)) << bad;
    WriteFile(path, bad);
    auto r = FileCheckpointStore::Open(path);
    ASSERT_FALSE(r.ok()) << "edited file accepted:\n" << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << r.status().ToString();
    EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find("checksum"), std::string::npos) << r.status().message();
    EXPECT_EQ(ReadFileOrEmpty(path), bad) << "the damaged file must be left alone";
  }
  // Reformatting without changing content is not damage.
  WriteFile(path, nlohmann::json::parse(good).dump());
  auto store = MustOpen(path);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Load("synthetic:gen:k0")->value_or(""), "42");
}

TEST(FileCheckpointStore, FileWithoutChecksumFromOlderBuildLoadsAndGainsOneOnCommit) {
  TempDir dir;
  const std::string path = dir.File("cp.json");
  WriteFile(path,
            "{\"format\":\"forcepipe-checkpoints\",\"version\":1,\"epoch\":2,"
            "\"checkpoints\":{\"k\":\"41\",\"b\":{\"base64\":\"/wAB\"}}}");
  {
    auto store = MustOpen(path);
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->Load("k")->value_or(""), "41");
    EXPECT_EQ(store->epoch(), 2u);
    CommitRequest r;
    r.set = {{"k", "42"}};
    r.epoch = 2;
    ASSERT_TRUE(store->Commit(r).ok());
  }
  auto doc = nlohmann::json::parse(ReadFileOrEmpty(path));
  ASSERT_TRUE(doc.contains("checksum")) << doc.dump();
  EXPECT_TRUE(doc["checksum"].is_string());
  auto store = MustOpen(path);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Load("k")->value_or(""), "42");
  EXPECT_EQ(store->Load("b")->value_or(""), std::string("\xff\x00\x01", 3));
}

TEST(FileCheckpointStore, NewerFormatVersionIsRefused) {
  TempDir dir;
  const std::string path = dir.File("cp.json");
  WriteFile(path,
            "{\"format\":\"forcepipe-checkpoints\",\"version\":2,\"epoch\":0,\"checkpoints\":{}}");
  auto r = FileCheckpointStore::Open(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find(path), std::string::npos);
}

TEST(FileCheckpointStore, EveryTruncationIsCorruptionNamingTheFile) {
  TempDir dir;
  const std::string path = dir.File("cp.json");
  {
    auto store = MustOpen(path);
    CommitRequest r;
    r.set = {{"a", "1"}, {"bb", "22"}, {"bin", std::string("\x80", 1)}};
    r.epoch = 12;
    ASSERT_TRUE(store->Commit(r).ok());
  }
  const std::string full = ReadFileOrEmpty(path);
  ASSERT_GT(full.size(), 10u);
  ASSERT_EQ(full.back(), '\n');
  // Every prefix that loses more than the final newline must be rejected.
  for (size_t len = 0; len + 1 < full.size(); ++len) {
    WriteFile(path, full.substr(0, len));
    auto r = FileCheckpointStore::Open(path);
    ASSERT_FALSE(r.ok()) << "prefix of " << len << " bytes was accepted";
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
    EXPECT_NE(r.status().message().find(path), std::string::npos);
  }
  WriteFile(path, full);
  auto store = MustOpen(path);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Load("bb")->value_or(""), "22");
  EXPECT_EQ(store->epoch(), 12u);
}

TEST(FileCheckpointStore, SecondOpenInSameProcessFailsUntilFirstCloses) {
  TempDir dir;
  const std::string path = dir.File("cp.json");
  auto first = MustOpen(path);
  auto second = FileCheckpointStore::Open(path);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  first.reset();
  EXPECT_NE(MustOpen(path), nullptr);
}

// flock belongs to the open file description, so the realistic case - another
// process - is tested with fork.
TEST(FileCheckpointStore, SecondProcessFailsFastNamingFileLockAndHolder) {
  TempDir dir;
  const std::string path = dir.File("cp.json");
  auto owner = MustOpen(path);
  ASSERT_NE(owner, nullptr);
  ASSERT_TRUE(owner->Commit(CheckpointMap{{"k", "1"}}).ok());

  auto try_in_child = [&]() -> std::pair<int, std::string> {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    pid_t pid = ::fork();
    if (pid == 0) {
      ::close(fds[0]);
      auto r = FileCheckpointStore::Open(path);
      std::string msg =
          std::to_string(static_cast<int>(r.status().code())) + "\n" + r.status().message();
      (void)!::write(fds[1], msg.data(), msg.size());
      ::_exit(0);
    }
    ::close(fds[1]);
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    auto nl = out.find('\n');
    if (nl == std::string::npos) return {-1, out};
    return {std::stoi(out.substr(0, nl)), out.substr(nl + 1)};
  };

  auto [code, message] = try_in_child();
  EXPECT_EQ(code, static_cast<int>(StatusCode::kFailedPrecondition)) << message;
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find(path + ".lock"), std::string::npos) << message;
  EXPECT_NE(message.find("pid " + std::to_string(::getpid())), std::string::npos) << message;

  owner.reset();
  auto [code2, message2] = try_in_child();
  EXPECT_EQ(code2, static_cast<int>(StatusCode::kOk)) << message2;
}

TEST(FileCheckpointStore, FailedWriteReturnsIOErrorAndKeepsState) {
  TempDir dir;
  const std::string path = dir.File("cp.json");
  auto store = MustOpen(path);
  ASSERT_TRUE(store->Commit(CheckpointMap{{"k", "1"}}).ok());
  // A directory where the temp file goes makes the write fail, even as root.
  ASSERT_TRUE(std::filesystem::create_directory(path + ".tmp"));
  Status s = store->Commit(CheckpointMap{{"k", "2"}});
  EXPECT_EQ(s.code(), StatusCode::kIOError) << s.ToString();
  EXPECT_NE(s.message().find(path), std::string::npos) << s.message();
  EXPECT_EQ(store->Load("k")->value_or(""), "1");
  std::filesystem::remove(path + ".tmp");
  ASSERT_TRUE(store->Commit(CheckpointMap{{"k", "3"}}).ok());
  store.reset();
  store = MustOpen(path);
  EXPECT_EQ(store->Load("k")->value_or(""), "3");
}

TEST(FileCheckpointStore, NonUtf8KeyIsRejected) {
  TempDir dir;
  auto store = MustOpen(dir.File("cp.json"));
  Status s = store->Commit(CheckpointMap{{std::string("k\xff"), "1"}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_TRUE(store->LoadAll()->empty());
}

// A child commits in a loop, reporting each seq after Commit returned, and is
// SIGKILLed at varying points. The file must always load, hold one seq for
// every key (the commit is atomic), and that seq must be the last reported one
// or the one being committed when the kill landed.
TEST(FileCheckpointStore, SigkillDuringCommitsAlwaysLeavesACommittedDocument) {
  TempDir dir;
  const std::string path = dir.File("cp.json");
  constexpr int kKeys = 64;
  constexpr int kIterations = 60;
  const std::string pad(120, 'p');
  uint64_t last_seen = 0;
  int kills_mid_run = 0;
  int kills_with_temp_file = 0;
  for (int iter = 0; iter < kIterations; ++iter) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      auto r = FileCheckpointStore::Open(path);
      if (!r.ok()) ::_exit(3);
      auto& store = *r;
      uint64_t seq = std::stoull(store->Load("k0")->value_or("0:").substr(0, 20));
      for (;;) {
        ++seq;
        CheckpointMap m;
        for (int k = 0; k < kKeys; ++k)
          m["k" + std::to_string(k)] = std::to_string(seq) + ":" + pad;
        if (!store->Commit(m).ok()) ::_exit(4);
        if (::write(fds[1], &seq, sizeof seq) != sizeof seq) ::_exit(5);
      }
    }
    ::close(fds[1]);
    const int target = 1 + (iter * 7) % 23;  // acks to wait for before the kill
    uint64_t acked = 0;
    for (int i = 0; i < target; ++i) {
      uint64_t v;
      ASSERT_EQ(ReadFull(fds[0], &v, sizeof v), sizeof v) << "child died early";
      acked = v;
    }
    // Aim the kill: right after an ack (mode 0), while the temp file is being
    // written or synced (mode 1), or just after a rename (mode 2). Waiting is
    // on the file's state with a deadline, never a sleep.
    const int mode = iter % 3;
    const std::string tmp = path + ".tmp";
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    if (mode >= 1) {
      while (!std::filesystem::exists(tmp) && std::chrono::steady_clock::now() < deadline) {
      }
    }
    if (mode == 2) {
      while (std::filesystem::exists(tmp) && std::chrono::steady_clock::now() < deadline) {
      }
    }
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "child made no progress";
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    uint64_t v;
    while (ReadFull(fds[0], &v, sizeof v) == sizeof v) acked = v;  // acks already in the pipe
    ::close(fds[0]);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;

    if (std::filesystem::exists(path + ".tmp")) ++kills_with_temp_file;
    auto store = MustOpen(path);  // the dead child's lock is gone with it
    ASSERT_NE(store, nullptr);
    auto all = store->LoadAll();
    ASSERT_TRUE(all.ok());
    ASSERT_EQ(all->size(), static_cast<size_t>(kKeys));
    const std::string first = all->begin()->second;
    for (const auto& [k, val] : *all) ASSERT_EQ(val, first) << "torn commit at key " << k;
    uint64_t stored = std::stoull(first.substr(0, first.find(':')));
    ASSERT_GE(stored, acked) << "a commit that returned OK was lost";
    ASSERT_LE(stored, acked + 1) << "a value that was never committed appeared";
    ASSERT_GE(stored, last_seen);
    if (stored == acked + 1) ++kills_mid_run;
    last_seen = stored;
  }
  // Informational: where the kills landed.
  std::printf("kills with a temp file in flight: %d, after rename before ack: %d, of %d\n",
              kills_with_temp_file, kills_mid_run, kIterations);
}

}  // namespace
}  // namespace forcepipe
