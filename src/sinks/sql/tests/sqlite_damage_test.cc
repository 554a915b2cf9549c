// The SQLite event store refuses damaged state instead of starting over or
// writing into it: a 0-byte file, corrupt pages, a dropped table; and a table
// dropped while running is a fatal push, not an endless retry.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/clock.h"
#include "sinks/sql/sql_sink.h"
#include "sinks/sql/sql_store.h"
#include "sinks/sql/tests/test_util.h"

namespace forcepipe::sql {
namespace {

using testing::EntrySpec;
using testing::MakeEntry;
using testing::TempDir;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class SqliteDamage : public ::testing::Test {
 protected:
  SqlSinkOptions Options() {
    SqlSinkOptions o;
    o.store.dsn = *ParseDsn("sqlite://" + path_);
    o.prune_interval = std::chrono::hours(1);
    return o;
  }
  Batch MakeBatch(int first, int n) {
    Batch b;
    for (int i = first; i < first + n; ++i) {
      EntrySpec s;
      s.id = "ev-" + std::to_string(i);
      s.objects = {{"Account", "001A" + std::to_string(i)}};
      s.line = "{\"id\":\"" + s.id + "\",\"pad\":\"" + std::string(400, 'p') + "\"}";
      b.entries.push_back(MakeEntry(s));
      b.checkpoints[s.checkpoint_key] = s.id;
    }
    return b;
  }
  // A store with `n` events, closed (WAL checkpointed into the main file).
  void Populate(int n) {
    SqlSink sink(Options(), &clock_);
    ASSERT_TRUE(sink.Start().ok());
    for (int i = 0; i < n; i += 500) {
      PushOutcome out = sink.Push(MakeBatch(i, 500));
      ASSERT_EQ(out.kind, PushOutcome::Kind::kOk) << out.reason;
    }
    sink.Stop();
  }
  void Exec(const std::string& sql) {
    ConnectOptions co;
    co.create = false;
    auto c = Connect(*ParseDsn("sqlite://" + path_), co);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    Status s = (*c)->Execute(sql);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  TempDir dir_;
  std::string path_ = dir_.File("events.db");
  ManualClock clock_{1'700'000'000'000'000'000};
};

TEST_F(SqliteDamage, ZeroByteEventsDbIsRefusedNamingTheFileNotAFreshStore) {
  { std::ofstream(path_, std::ios::binary | std::ios::trunc); }
  SqlSink sink(Options(), &clock_);
  Status s = sink.Start();
  ASSERT_FALSE(s.ok()) << "a 0-byte events.db became a fresh store";
  EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
  EXPECT_NE(s.message().find(path_), std::string::npos) << s.message();
  EXPECT_EQ(std::filesystem::file_size(path_), 0u) << "the damaged file must be left alone";
}

TEST_F(SqliteDamage, CorruptPagesAreRefusedAtOpenAndNotWritten) {
  Populate(2000);
  ASSERT_FALSE(std::filesystem::exists(path_ + "-wal") &&
               std::filesystem::file_size(path_ + "-wal") > 0);
  std::string bytes = ReadAll(path_);
  ASSERT_GT(bytes.size(), 16384u * 12);
  // Scribble over some b-tree pages (16 KiB pages), not the header page.
  for (size_t i = 16384 * 4; i < 16384 * 8; ++i) bytes[i] = static_cast<char>(i * 31);
  { std::ofstream(path_, std::ios::binary | std::ios::trunc) << bytes; }
  SqlSink sink(Options(), &clock_);
  Status s = sink.Start();
  ASSERT_FALSE(s.ok()) << "a database failing quick_check was opened";
  EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
  EXPECT_NE(s.message().find(path_), std::string::npos) << s.message();
  EXPECT_EQ(ReadAll(path_), bytes) << "the damaged file must not be written";
}

TEST_F(SqliteDamage, MissingTableInAnInitialisedStoreIsRefusedNamingFileAndTable) {
  for (const char* table : {"events", "event_objects", "checkpoints", "checkpoint_epoch"}) {
    std::filesystem::remove(path_);
    std::filesystem::remove(path_ + "-wal");
    std::filesystem::remove(path_ + "-shm");
    Populate(10);
    Exec(std::string("DROP TABLE ") + table);
    SqlSink sink(Options(), &clock_);
    Status s = sink.Start();
    ASSERT_FALSE(s.ok()) << "dropped table " << table << " was accepted";
    EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
    EXPECT_NE(s.message().find(path_), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(table), std::string::npos) << s.message();
  }
}

TEST_F(SqliteDamage, EventsTableDroppedWhileRunningIsFatalNotRetriedForever) {
  SqlSink sink(Options(), &clock_);
  ASSERT_TRUE(sink.Start().ok());
  ASSERT_EQ(sink.Push(MakeBatch(0, 5)).kind, PushOutcome::Kind::kOk);
  Exec("DROP TABLE event_objects");
  Exec("DROP TABLE events");
  PushOutcome out = sink.Push(MakeBatch(5, 5));
  EXPECT_NE(out.kind, PushOutcome::Kind::kRetryable) << out.reason;
  EXPECT_NE(out.kind, PushOutcome::Kind::kOk);
  EXPECT_NE(out.reason.find("events"), std::string::npos) << out.reason;
  sink.Stop();
}

TEST_F(SqliteDamage, BrandNewPathIsStillCreatedFresh) {
  path_ = dir_.File("sub/new-events.db");
  std::filesystem::create_directories(dir_.File("sub"));
  SqlSink sink(Options(), &clock_);
  ASSERT_TRUE(sink.Start().ok());
  auto all = sink.checkpoint_store()->LoadAll();
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());
  sink.Stop();
}

}  // namespace
}  // namespace forcepipe::sql
