#include "core/dead_letter.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/log.h"

namespace forcepipe {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class DeadLetterWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("fp-dead-letter-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(DeadLetterWriterTest, RedactsEveryStringField) {
  log::RegisterSecret("DlBearerSecret-81x");
  DeadLetterWriter w((dir_ / "dl.jsonl").string());
  ASSERT_TRUE(w.Append({{"ts_ns", "12", true},
                        {"reason", "HTTP 400: Authorization=Bearer DlBearerSecret-81x"},
                        {"line", "echo RGxCZWFyZXJTZWNyZXQtODF4 DlBearerSecret%2D81x"}})
                  .ok());
  const std::string text = Slurp(dir_ / "dl.jsonl");
  EXPECT_EQ(text,
            "{\"ts_ns\":12,\"reason\":\"HTTP 400: Authorization=Bearer ***\","
            "\"line\":\"echo *** ***\"}\n");
  EXPECT_EQ(w.written(), 1u);
}

TEST_F(DeadLetterWriterTest, FailsWhileUnwritableThenWritesOnceWritable) {
  // A regular file where the directory should be: open fails (as on a
  // read-only or missing data_dir; tests run as root, so no chmod).
  const fs::path blocked = dir_ / "data";
  std::ofstream(blocked) << "not a directory";
  DeadLetterWriter w((blocked / "dead-letters.jsonl").string());
  Status s = w.Append({{"reason", "poison"}});
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find((blocked / "dead-letters.jsonl").string()), std::string::npos)
      << s.ToString();
  EXPECT_EQ(w.failures(), 1u);
  EXPECT_EQ(w.written(), 0u);
  fs::remove(blocked);
  ASSERT_TRUE(w.Append({{"reason", "poison"}}).ok());
  EXPECT_EQ(Slurp(blocked / "dead-letters.jsonl"), "{\"reason\":\"poison\"}\n");
}

TEST_F(DeadLetterWriterTest, DisabledWriterAcceptsAndWritesNothing) {
  DeadLetterWriter w("");
  EXPECT_TRUE(w.Append({{"reason", "x"}}).ok());
  EXPECT_FALSE(w.enabled());
}

}  // namespace
}  // namespace forcepipe
