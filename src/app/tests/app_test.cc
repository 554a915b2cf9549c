#include "app/app.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "config/loader.h"
#include "sources/synthetic/synthetic_source.h"

namespace forcepipe::app {
namespace {

class AppConfig : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(RegisterBuiltins(registry_).ok()); }
  Status Load(const std::string& yaml) {
    auto root = config::ParseYaml(yaml, "t.yaml");
    if (!root.ok()) return root.status();
    auto c = LoadConfig(*root, registry_);
    return c.status();
  }
  Registry registry_;
};

TEST_F(AppConfig, RegistryRejectsDuplicateNames) {
  Status s = registry_.sources.Register(SyntheticSourceFactory());
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists);
}

TEST_F(AppConfig, SourcesAreRequired) {
  Status s = Load("sinks: {out: {type: synthetic}}\n");
  EXPECT_NE(s.message().find("sources: expected a mapping"), std::string::npos) << s.message();
}

TEST_F(AppConfig, UnknownKindNamesPathAndChoices) {
  Status s = Load("sources: {gen: {type: kafka}}\nsinks: {out: {type: x}}\n");
  EXPECT_NE(s.message().find("sources.gen.type: unknown kind \"kafka\"; expected one of"), std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("synthetic"), std::string::npos);
}

TEST_F(AppConfig, SourceOptionErrorsNameFullPath) {
  Status s = Load("sources: {gen: {type: synthetic, rate: fast}}\nsinks: {out: {type: x}}\n");
  EXPECT_EQ(s.message(), "sources.gen.rate: expected a number, got \"fast\"");
  Status u = Load("sources: {gen: {type: synthetic, speed: 3}}\nsinks: {out: {type: x}}\n");
  EXPECT_NE(u.message().find("sources.gen.speed: unknown key"), std::string::npos) << u.message();
}

TEST_F(AppConfig, UnknownTopLevelKeyListsEveryKnownKey) {
  Status s = Load("sorces: {}\n");
  EXPECT_NE(s.message().find("sorces: unknown key"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("sources"), std::string::npos);
}

TEST_F(AppConfig, TopLevelSectionsAreValidated) {
  Status s = Load("pipeline: {streaming: {max_bytes: huge}}\nsources: {gen: {type: synthetic}}\n");
  EXPECT_EQ(s.message(), "pipeline.streaming.max_bytes: expected a size like 1MiB, got \"huge\"");
}

TEST(RenderExampleConfig, IsValidYamlAndNamesEveryKind) {
  Registry r;
  ASSERT_TRUE(RegisterBuiltins(r).ok());
  std::string ex = RenderExampleConfig(r);
  EXPECT_TRUE(config::ParseYaml(ex, "example").ok());
  for (const auto& k : r.sources.Kinds()) EXPECT_NE(ex.find("type: " + k), std::string::npos);
  for (const auto& k : r.sinks.Kinds()) EXPECT_NE(ex.find("type: " + k), std::string::npos);
}

}  // namespace
}  // namespace forcepipe::app
