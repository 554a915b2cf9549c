#include "sinks/loki/loki_labels.h"

#include <gtest/gtest.h>

#include "sinks/loki/tests/loki_receiver.h"

namespace forcepipe::loki {
namespace {

TEST(LokiLabels, ValidNamesFollowPrometheusSyntax) {
  EXPECT_TRUE(IsValidLabelName("job"));
  EXPECT_TRUE(IsValidLabelName("_x9"));
  EXPECT_TRUE(IsValidLabelName("sf_org_id"));
  EXPECT_FALSE(IsValidLabelName(""));
  EXPECT_FALSE(IsValidLabelName("9x"));
  EXPECT_FALSE(IsValidLabelName("a.b"));
  EXPECT_FALSE(IsValidLabelName("a-b"));
}

TEST(LokiLabels, CreateRejectsSourceOwnedInvalidAndUnlistedStaticLabels) {
  EXPECT_FALSE(LabelPolicy::Create({{"source", "x"}}, "", {}).ok());
  EXPECT_FALSE(LabelPolicy::Create({{"event_type", "x"}}, "", {}).ok());
  EXPECT_FALSE(LabelPolicy::Create({{"bad-name", "x"}}, "", {}).ok());
  EXPECT_FALSE(LabelPolicy::Create({{"user_id", "x"}}, "", {}).ok());
  EXPECT_FALSE(LabelPolicy::Create({{"environment", ""}}, "", {}).ok());
  EXPECT_FALSE(LabelPolicy::Create({}, "", {{"00D1", ""}}).ok());
  EXPECT_TRUE(LabelPolicy::Create({{"environment", "prod"}, {"job", "sf"}}, "", {}).ok());
}

TEST(LokiLabels, ResolveSortsEscapesAndRoundTrips) {
  auto policy = LabelPolicy::Create({{"environment", "pr\"od"}}, "", {});
  ASSERT_TRUE(policy.ok());
  LabelSet labels = {{"source", "a\\b"}, {"event_type", "Lo\ngin\""}, {"user_id", "005x"}};
  ResolvedLabels r;
  policy->Resolve(&labels, &r);
  EXPECT_EQ(r.labels,
            "{environment=\"pr\\\"od\", event_type=\"Lo\\ngin\\\"\", job=\"forcepipe\", "
            "source=\"a\\\\b\"}");
  auto parsed = loki_test::ParseLabelSet(r.labels);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->at("event_type"), "Lo\ngin\"");
  EXPECT_EQ(parsed->at("source"), "a\\b");
  EXPECT_EQ(parsed->at("environment"), "pr\"od");
  ASSERT_EQ(r.extra_metadata.size(), 1u);
  EXPECT_EQ(r.extra_metadata[0]->name, "user_id");
  EXPECT_EQ(r.extra_metadata[0], &labels[2]);
}

TEST(LokiLabels, EntryLabelsWinOverStaticAndEmptyValuesAreDropped) {
  auto policy = LabelPolicy::Create({{"org", "static"}, {"job", "cfg"}}, "", {});
  ASSERT_TRUE(policy.ok());
  LabelSet labels = {{"org", "entry"}, {"environment", ""}};
  ResolvedLabels r;
  policy->Resolve(&labels, &r);
  EXPECT_EQ(r.labels, "{job=\"cfg\", org=\"entry\"}");
  policy->Resolve(nullptr, &r);
  EXPECT_EQ(r.labels, "{job=\"cfg\", org=\"static\"}");
}

TEST(LokiLabels, TenantComesFromOrgMapThenDefault) {
  auto policy = LabelPolicy::Create({}, "fallback", {{"00DA", "acme"}, {"beta", "beta-t"}});
  ASSERT_TRUE(policy.ok());
  ResolvedLabels r;
  LabelSet a = {{"sf_org_id", "00DA"}};
  policy->Resolve(&a, &r);
  EXPECT_EQ(r.tenant, "acme");
  LabelSet b = {{"sf_org_id", "00DX"}, {"org", "beta"}};
  policy->Resolve(&b, &r);
  EXPECT_EQ(r.tenant, "beta-t");
  LabelSet c = {{"sf_org_id", "00DX"}};
  policy->Resolve(&c, &r);
  EXPECT_EQ(r.tenant, "fallback");
  auto none = LabelPolicy::Create({}, "", {});
  none->Resolve(&a, &r);
  EXPECT_EQ(r.tenant, "");
}

}  // namespace
}  // namespace forcepipe::loki
