// SqliteCheckpointStore specifics: schema, WAL, corrupt databases, several
// connections. The shared contract is in contract_test.cc.

#include "checkpoint/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "checkpoint/tests/test_util.h"

namespace forcepipe {
namespace {

using testing_util::ReadFileOrEmpty;
using testing_util::TempDir;
using testing_util::WriteFile;

std::unique_ptr<SqliteCheckpointStore> MustOpen(const std::string& path,
                                                const Clock* clock = Clock::Real()) {
  auto r = SqliteCheckpointStore::Open(path, clock);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

// Runs one query returning a single text cell, with a separate connection.
std::string QueryOne(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* s = nullptr;
  std::string out = "<error>";
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK &&
      sqlite3_step(s) == SQLITE_ROW) {
    const unsigned char* t = sqlite3_column_text(s, 0);
    out = t ? reinterpret_cast<const char*>(t) : "<null>";
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

TEST(SqliteCheckpointStore, WritesRowsWithUpdatedAtAndEpochInWalMode) {
  TempDir dir;
  const std::string path = dir.File("x/cp.db");
  ManualClock clock(1'700'000'000'123'456'789);
  auto store = MustOpen(path, &clock);
  ASSERT_NE(store, nullptr);
  CommitRequest r;
  r.set = {{"synthetic:gen:k1", "42"}};
  r.epoch = 6;
  ASSERT_TRUE(store->Commit(r).ok());
  EXPECT_EQ(QueryOne(path, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(QueryOne(path, "SELECT value FROM forcepipe_checkpoints WHERE key='synthetic:gen:k1'"),
            "42");
  EXPECT_EQ(QueryOne(path, "SELECT updated_at FROM forcepipe_checkpoints"), "1700000000123456789");
  EXPECT_EQ(QueryOne(path, "SELECT epoch FROM forcepipe_checkpoints"), "6");
  EXPECT_EQ(QueryOne(path, "SELECT max_epoch FROM forcepipe_checkpoint_fence"), "6");
}

TEST(SqliteCheckpointStore, NotADatabaseIsCorruptionNamingTheFile) {
  TempDir dir;
  const std::string path = dir.File("cp.db");
  const std::string junk(8192, 'x');
  WriteFile(path, junk);
  auto r = SqliteCheckpointStore::Open(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << r.status().ToString();
  EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().message();
  EXPECT_EQ(ReadFileOrEmpty(path), junk);
}

TEST(SqliteCheckpointStore, DamagedPagesAreCorruptionNamingTheFile) {
  TempDir dir;
  const std::string path = dir.File("cp.db");
  {
    auto store = MustOpen(path);
    CheckpointMap m;
    for (int i = 0; i < 2000; ++i) m["key-" + std::to_string(i)] = std::string(100, 'v');
    ASSERT_TRUE(store->Commit(m).ok());
  }  // closing checkpoints the WAL into the main file
  ASSERT_FALSE(std::filesystem::exists(path + "-wal") &&
               std::filesystem::file_size(path + "-wal") > 0);
  std::string bytes = ReadFileOrEmpty(path);
  ASSERT_GT(bytes.size(), 4096u * 6);
  // Scribble over pages 3..5 (b-tree pages of the checkpoint table).
  for (size_t i = 4096 * 2; i < 4096 * 5; ++i) bytes[i] = static_cast<char>(i * 31);
  WriteFile(path, bytes);
  auto r = SqliteCheckpointStore::Open(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << r.status().ToString();
  EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().message();
}

TEST(SqliteCheckpointStore, ForeignTableShapeIsRefused) {
  TempDir dir;
  const std::string path = dir.File("cp.db");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE forcepipe_checkpoints(k TEXT, v TEXT)", nullptr, nullptr,
                         nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto r = SqliteCheckpointStore::Open(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << r.status().ToString();
  EXPECT_NE(r.status().message().find(path), std::string::npos);
}

void Exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

TEST(SqliteCheckpointStore, ZeroByteFileIsCorruptionNamingTheFileNotAFreshStore) {
  TempDir dir;
  const std::string path = dir.File("cp.db");
  WriteFile(path, "");
  auto r = SqliteCheckpointStore::Open(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << r.status().ToString();
  EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().message();
  EXPECT_EQ(std::filesystem::file_size(path), 0u);  // left as found
}

TEST(SqliteCheckpointStore, BrandNewPathIsStillCreatedFresh) {
  TempDir dir;
  const std::string path = dir.File("new/cp.db");
  auto store = MustOpen(path);
  ASSERT_NE(store, nullptr);
  auto all = store->LoadAll();
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());
  store.reset();
  EXPECT_NE(MustOpen(path), nullptr);  // and reopens
}

TEST(SqliteCheckpointStore, DroppedCheckpointTableIsCorruptionNamingTheFile) {
  TempDir dir;
  const std::string path = dir.File("cp.db");
  {
    auto store = MustOpen(path);
    ASSERT_TRUE(store->Commit(CheckpointMap{{"k", "42"}}).ok());
  }
  Exec(path, "DROP TABLE forcepipe_checkpoints");
  auto r = SqliteCheckpointStore::Open(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << r.status().ToString();
  EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("forcepipe_checkpoints"), std::string::npos);
  EXPECT_EQ(QueryOne(path, "SELECT count(*) FROM sqlite_master WHERE name='forcepipe_checkpoints'"),
            "0");  // not recreated empty
}

TEST(SqliteCheckpointStore, BothTablesDroppedFromAnInitialisedDatabaseIsCorruption) {
  TempDir dir;
  const std::string path = dir.File("cp.db");
  {
    auto store = MustOpen(path);
    ASSERT_TRUE(store->Commit(CheckpointMap{{"k", "42"}}).ok());
  }
  Exec(path, "DROP TABLE forcepipe_checkpoints; DROP TABLE forcepipe_checkpoint_fence");
  auto r = SqliteCheckpointStore::Open(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << r.status().ToString();
  EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().message();
}

TEST(SqliteCheckpointStore, NonTextValueIsCorruptionNamingKeyAndFile) {
  TempDir dir;
  const std::string path = dir.File("cp.db");
  {
    auto store = MustOpen(path);
    ASSERT_TRUE(store->Commit(CheckpointMap{{"a", "1"}, {"b", "2"}}).ok());
  }
  Exec(path, "UPDATE forcepipe_checkpoints SET value = X'' WHERE key = 'a'");
  auto store = MustOpen(path);
  ASSERT_NE(store, nullptr);
  auto v = store->Load("a");
  ASSERT_FALSE(v.ok()) << "a BLOB value must not read as \"" << (v.ok() && *v ? **v : "") << "\"";
  EXPECT_EQ(v.status().code(), StatusCode::kCorruption);
  EXPECT_NE(v.status().message().find(path), std::string::npos) << v.status().message();
  EXPECT_NE(v.status().message().find("\"a\""), std::string::npos) << v.status().message();
  auto all = store->LoadAll();
  EXPECT_EQ(all.status().code(), StatusCode::kCorruption);
  auto b = store->Load("b");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(**b, "2");
}

TEST(SqliteCheckpointStore, TwoConnectionsShareCasAndFencing) {
  TempDir dir;
  const std::string path = dir.File("cp.db");
  auto a = MustOpen(path);
  auto b = MustOpen(path);
  ASSERT_TRUE(a->Commit(CheckpointMap{{"k", "1"}}).ok());
  EXPECT_EQ(b->Load("k")->value_or(""), "1");

  CommitRequest from_b;
  from_b.expect = {{"k", "1"}};
  from_b.set = {{"k", "2"}};
  ASSERT_TRUE(b->Commit(from_b).ok());
  CommitRequest stale_a = from_b;  // a still believes k == 1
  stale_a.set = {{"k", "3"}};
  EXPECT_EQ(a->Commit(stale_a).code(), StatusCode::kConflict);

  CommitRequest leader;
  leader.epoch = 10;
  ASSERT_TRUE(b->Commit(leader).ok());
  CommitRequest old_leader;
  old_leader.set = {{"k", "9"}};
  old_leader.epoch = 9;
  EXPECT_EQ(a->Commit(old_leader).code(), StatusCode::kFenced);
  EXPECT_EQ(a->Load("k")->value_or(""), "2");
}

TEST(SqliteCheckpointStore, EpochBeyondInt64IsInvalid) {
  TempDir dir;
  auto store = MustOpen(dir.File("cp.db"));
  CommitRequest r;
  r.set = {{"k", "1"}};
  r.epoch = ~uint64_t{0};
  EXPECT_EQ(store->Commit(r).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace forcepipe
