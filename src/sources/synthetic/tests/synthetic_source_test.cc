#include "sources/synthetic/synthetic_source.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "testing/fakes.h"

namespace forcepipe {
namespace {

class RecordingContext final : public SourceContext {
 public:
  bool Emit(Entry e) override {
    if (limit_ && entries.size() >= limit_) {
      stop_ = true;
      return false;
    }
    entries.push_back(std::move(e));
    return true;
  }
  bool stopping() const override { return stop_; }
  bool WaitFor(Duration) override { return !stop_; }
  Result<std::optional<std::string>> LoadCheckpoint(std::string_view key) override {
    auto it = checkpoints.find(std::string(key));
    if (it == checkpoints.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  const Clock& clock() const override { return clock_; }

  std::vector<Entry> entries;
  std::map<std::string, std::string> checkpoints;
  size_t limit_ = 0;

 private:
  bool stop_ = false;
  ManualClock clock_;
};

SyntheticOptions Opts(int keys, int64_t max) {
  SyntheticOptions o;
  o.name = "gen";
  o.rate = 0;
  o.keys = keys;
  o.max_events = max;
  o.base_time_ms = 1'700'000'000'000;
  return o;
}

TEST(SyntheticSource, ProducesExactlyMaxEventsRoundRobin) {
  SyntheticSource src(Opts(3, 10));
  RecordingContext ctx;
  ASSERT_TRUE(src.Run(ctx).ok());
  ASSERT_EQ(ctx.entries.size(), 10u);
  EXPECT_EQ(ctx.entries[0].Metadata(meta::kEventId), "gen-k0-1");
  EXPECT_EQ(ctx.entries[1].Metadata(meta::kEventId), "gen-k1-1");
  EXPECT_EQ(ctx.entries[3].Metadata(meta::kEventId), "gen-k0-2");
  EXPECT_EQ(ctx.entries[3].checkpoint, (CheckpointToken{"synthetic:gen:k0", "2"}));
  EXPECT_EQ(src.QuotaForKey(0), 4);
  EXPECT_EQ(src.QuotaForKey(2), 3);
  EXPECT_NE(ctx.entries[0].line.find("\"id\":\"gen-k0-1\""), std::string::npos);
}

TEST(SyntheticSource, ResumesAfterCommittedCheckpointsAndKeepsTheTotal) {
  SyntheticSource src(Opts(2, 10));
  RecordingContext ctx;
  ctx.checkpoints["synthetic:gen:k0"] = "3";
  ctx.checkpoints["synthetic:gen:k1"] = "5";  // k1 is done
  ASSERT_TRUE(src.Run(ctx).ok());
  std::vector<std::string> ids;
  for (auto& e : ctx.entries) ids.emplace_back(e.Metadata(meta::kEventId));
  EXPECT_EQ(ids, (std::vector<std::string>{"gen-k0-4", "gen-k0-5"}));
}

TEST(SyntheticSource, DeterministicTimestampsAndLines) {
  SyntheticSource a(Opts(2, 6)), b(Opts(2, 6));
  RecordingContext ca, cb;
  ASSERT_TRUE(a.Run(ca).ok());
  ASSERT_TRUE(b.Run(cb).ok());
  ASSERT_EQ(ca.entries.size(), cb.entries.size());
  for (size_t i = 0; i < ca.entries.size(); ++i) {
    EXPECT_EQ(ca.entries[i].line, cb.entries[i].line);
    EXPECT_EQ(ca.entries[i].timestamp_ns, cb.entries[i].timestamp_ns);
  }
  EXPECT_LT(ca.entries[0].timestamp_ns, ca.entries[1].timestamp_ns);
}

TEST(SyntheticSource, CorruptCheckpointIsAnError) {
  SyntheticSource src(Opts(1, 10));
  RecordingContext ctx;
  ctx.checkpoints["synthetic:gen:k0"] = "banana";
  Status s = src.Run(ctx);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("synthetic:gen:k0"), std::string::npos);
}

TEST(SyntheticSource, CheckpointOnlyEntriesCarryTheLastPosition) {
  SyntheticOptions o = Opts(1, 6);
  o.checkpoint_only_every = 3;
  SyntheticSource src(o);
  RecordingContext ctx;
  ASSERT_TRUE(src.Run(ctx).ok());
  ASSERT_EQ(ctx.entries.size(), 8u);
  EXPECT_TRUE(ctx.entries[3].checkpoint_only);
  EXPECT_EQ(ctx.entries[3].checkpoint.value, "3");
  EXPECT_TRUE(ctx.entries[3].line.empty());
}

TEST(SyntheticSource, StopsWhenTheLaneRefuses) {
  SyntheticSource src(Opts(1, 0));  // unlimited
  RecordingContext ctx;
  ctx.limit_ = 50;
  ASSERT_TRUE(src.Run(ctx).ok());
  EXPECT_EQ(ctx.entries.size(), 50u);
}

TEST(SyntheticSource, OverflowingCheckpointIsAnErrorNamingKeyAndValue) {
  SyntheticSource src(Opts(1, 10));
  RecordingContext ctx;
  ctx.checkpoints["synthetic:gen:k0"] = "99999999999999999999999";
  Status s = src.Run(ctx);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("synthetic:gen:k0"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("99999999999999999999999"), std::string::npos) << s.message();
  EXPECT_TRUE(ctx.entries.empty());
}

TEST(SyntheticSource, MaximumSequenceCheckpointIsAnErrorNotAWrap) {
  SyntheticSource src(Opts(1, 0));
  RecordingContext ctx;
  ctx.checkpoints["synthetic:gen:k0"] = "9223372036854775807";  // +1 would overflow
  EXPECT_FALSE(src.Run(ctx).ok());
  EXPECT_TRUE(ctx.entries.empty());
}

TEST(SyntheticSource, EmptyCheckpointIsAnErrorNotARestartFromOne) {
  for (const char* bad : {"", " 3", "3 ", "+3", "-1", "0x10", "3.0"}) {
    SyntheticSource src(Opts(1, 10));
    RecordingContext ctx;
    ctx.checkpoints["synthetic:gen:k0"] = bad;
    Status s = src.Run(ctx);
    EXPECT_EQ(s.code(), StatusCode::kCorruption) << "\"" << bad << "\"";
    EXPECT_NE(s.message().find("synthetic:gen:k0"), std::string::npos) << s.message();
    EXPECT_TRUE(ctx.entries.empty()) << "\"" << bad << "\"";
  }
}

TEST(SyntheticSource, CheckPositionValidatesKeyAndValueForStateSet) {
  SyntheticSource src(Opts(2, 0));
  EXPECT_TRUE(src.CheckPosition("synthetic:gen:k0", "0").ok());
  EXPECT_TRUE(src.CheckPosition("synthetic:gen:k1", "42").ok());
  EXPECT_EQ(src.CheckPosition("synthetic:gen:k2", "1").code(), StatusCode::kNotFound);
  EXPECT_EQ(src.CheckPosition("synthetic:other:k0", "1").code(), StatusCode::kNotFound);
  EXPECT_EQ(src.CheckPosition("synthetic:gen:k01", "1").code(), StatusCode::kNotFound);
  Status bad = src.CheckPosition("synthetic:gen:k0", "abc");
  EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("abc"), std::string::npos) << bad.message();
  EXPECT_EQ(src.CheckPosition("synthetic:gen:k0", "99999999999999999999999").code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(src.CheckPosition("synthetic:gen:k0", "").code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace forcepipe
