// The sql kind's option table through the real config validator.

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <fstream>

#include "config/loader.h"
#include "config/node.h"
#include "sinks/sql/history.h"
#include "sinks/sql/sql_sink.h"
#include "sinks/sql/tests/test_util.h"

namespace forcepipe::sql {
namespace {

Result<config::Node> ValidateYaml(const std::string& text) {
  FP_ASSIGN_OR_RETURN(YAML::Node y, config::ParseYaml(text, "test"));
  return config::Validate(y, SqlSinkOptionTable(), "sinks.out");
}

TEST(SqlSinkConfig, ParsesRetentionAndDefaults) {
  auto node = ValidateYaml(R"(
dsn: sqlite:///tmp/x.db
retention: {AccountChangeEvent: 30d, "*": 12h}
object_retention: {Contact: 1d12h}
)");
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  auto o = ParseSqlSinkOptions(*node);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->store.dsn.path, "/tmp/x.db");
  EXPECT_EQ(o->store.retention.at("AccountChangeEvent"), std::chrono::hours(24 * 30));
  EXPECT_EQ(o->store.retention.at("*"), std::chrono::hours(12));
  EXPECT_EQ(o->store.object_retention.at("Contact"), std::chrono::hours(36));
  EXPECT_EQ(o->prune_interval, std::chrono::minutes(5));
  EXPECT_EQ(o->store.prune_batch, 1000);
  EXPECT_EQ(o->store.connect.connect_timeout, std::chrono::seconds(10));
}

TEST(SqlSinkConfig, ErrorsNameThePathAndHideThePassword) {
  auto node = ValidateYaml("dsn: postgresql://u:hunter2@h/db\nretention: {X: soon}\n");
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  auto o = ParseSqlSinkOptions(*node);
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("sinks.out.retention.X"), std::string::npos)
      << o.status().ToString();

  node = ValidateYaml("dsn: oracle://u:hunter2@h/db\n");
  ASSERT_TRUE(node.ok());
  o = ParseSqlSinkOptions(*node);
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("sinks.out.dsn"), std::string::npos);
  EXPECT_EQ(o.status().message().find("hunter2"), std::string::npos);

  EXPECT_FALSE(ValidateYaml("retention: {}\n").ok());  // dsn is required
}

TEST(SqlSinkConfig, DsnFileAndFactoryBuildAWorkingSink) {
  testing::TempDir dir;
  const std::string file = dir.path() + "/dsn";
  std::ofstream(file) << "sqlite://" << dir.path() << "/events.db\n";
  auto node = ValidateYaml("dsn_file: " + file + "\n");
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  SinkFactory f = SqlSinkFactory();
  EXPECT_EQ(f.kind, "sql");
  for (const auto& opt : *f.options) {
    EXPECT_NE(opt.key, "type");
    EXPECT_NE(opt.key, "batch");
  }
  FactoryContext ctx;
  ctx.name = "out";
  auto sink = f.create(*node, ctx);
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  ASSERT_TRUE((*sink)->Start().ok());
  ASSERT_NE((*sink)->checkpoint_store(), nullptr);
  Batch b;
  testing::EntrySpec s;
  s.id = "cfg-1";
  s.objects = {{"Account", "001CFG"}};
  b.entries.push_back(testing::MakeEntry(s));
  EXPECT_EQ((*sink)->Push(b).kind, PushOutcome::Kind::kOk);
  (*sink)->Stop();

  std::ostringstream out, err;
  EXPECT_EQ(RunHistoryCommand(*node, "001CFG", 10, "", true, out, err), 0) << err.str();
  EXPECT_NE(out.str().find("cfg-1"), std::string::npos) << out.str();
}

}  // namespace
}  // namespace forcepipe::sql
