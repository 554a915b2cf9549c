#include "app/app.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "config/loader.h"
#include "sources/synthetic/synthetic_source.h"
#include "testing/fakes.h"
#include "testing/process.h"

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
  EXPECT_NE(s.message().find("sources.gen.type: unknown kind \"kafka\"; expected one of"),
            std::string::npos)
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

#ifdef FORCEPIPE_WITH_SINK_SQL
TEST(AppServer, RecordHistoryRouteServesTheSqlStore) {
  Registry r;
  ASSERT_TRUE(RegisterBuiltins(r).ok());
  testing::TempDir dir;
  auto yaml = config::ParseYaml(
      "data_dir: " + dir.File("data") +
          "\nsources: {gen: {type: synthetic, rate: 200, keys: 2}}\n"
          "sinks: {store: {type: sql, dsn: 'sqlite://" +
          dir.File("events.db") + "', batch: {interval: 20ms}}}\nserver: {listen: '127.0.0.1:0'}\n",
      "t.yaml");
  ASSERT_TRUE(yaml.ok());
  auto cfg = LoadConfig(*yaml, r);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  auto engine = BuildEngine(**cfg);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  auto server = StartServer(**cfg, **engine, "test");
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  Status run_status;
  std::thread run([&] { run_status = (*engine)->Run(); });
  httplib::Client c("127.0.0.1", (*server)->port());
  nlohmann::json rows;
  bool got = testing::WaitUntil([&] {
    auto res = c.Get("/api/v1/records/gen-k1/events?limit=3");
    if (!res || res->status != 200) return false;
    rows = nlohmann::json::parse(res->body);
    return rows.size() == 3;
  });
  if (!got) {
    (*engine)->RequestStop();
    run.join();
    FAIL() << "no history rows; engine: " << run_status.ToString();
  }
  EXPECT_EQ(rows[0]["object_type"], "SyntheticKey");
  EXPECT_GE(rows[0]["ts_ms"].get<int64_t>(), rows[1]["ts_ms"].get<int64_t>()) << "newest first";
  auto none = c.Get("/api/v1/records/nobody/events");
  ASSERT_TRUE(none);
  EXPECT_EQ(nlohmann::json::parse(none->body).size(), 0u);
  (*engine)->RequestStop();
  run.join();
  EXPECT_TRUE(run_status.ok()) << run_status.ToString();
  (*server)->Stop();
}
#endif

}  // namespace
}  // namespace forcepipe::app
