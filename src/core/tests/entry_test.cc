#include "core/entry.h"

#include <gtest/gtest.h>

namespace forcepipe {
namespace {

TEST(Entry, LooksUpMetadataAndLabels) {
  Entry e;
  e.labels = std::make_shared<LabelSet>(LabelSet{{"source", "pubsub"}, {"event_type", "Login"}});
  e.structured_metadata = {{"event_id", "abc"}, {"replay_id", "AAA="}};
  EXPECT_EQ(e.Metadata(meta::kEventId), "abc");
  EXPECT_EQ(e.Metadata("missing"), "");
  EXPECT_EQ(e.LabelValue("event_type"), "Login");
  EXPECT_EQ(e.LabelValue("nope"), "");
  Entry bare;
  EXPECT_EQ(bare.LabelValue("source"), "");
}

TEST(Entry, ByteSizeGrowsWithPayload) {
  Entry a;
  a.line = "x";
  Entry b;
  b.line = std::string(1000, 'x');
  b.structured_metadata = {{"k", "v"}};
  EXPECT_GT(b.ComputeByteSize(), a.ComputeByteSize() + 999);
}

}  // namespace
}  // namespace forcepipe
