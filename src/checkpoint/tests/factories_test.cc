// The config factories build working stores from validated config.

#include "checkpoint/factories.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "checkpoint/tests/test_util.h"

namespace forcepipe {
namespace {

using testing_util::TempDir;
using testing_util::WriteFile;

Result<std::unique_ptr<CheckpointStore>> Create(const CheckpointStoreFactory& f,
                                                const std::string& yaml) {
  FP_ASSIGN_OR_RETURN(config::Node node,
                      config::Validate(YAML::Load(yaml), *f.options, "checkpoint"));
  return f.create(node, FactoryContext{});
}

TEST(CheckpointFactories, KindsAndTablesAreDeclared) {
  auto file = FileCheckpointStoreFactory();
  auto sqlite = SqliteCheckpointStoreFactory();
  EXPECT_EQ(file.kind, "file");
  EXPECT_EQ(sqlite.kind, "sqlite");
  for (const auto* f : {&file, &sqlite}) {
    ASSERT_NE(f->options, nullptr);
    for (const auto& o : *f->options) EXPECT_NE(o.key, "type");
  }
  Registry registry;
  EXPECT_TRUE(registry.checkpoint_stores.Register(file).ok());
  EXPECT_TRUE(registry.checkpoint_stores.Register(sqlite).ok());
}

TEST(CheckpointFactories, FileFactoryOpensAWorkingStore) {
  TempDir dir;
  const std::string path = dir.File("cp.json");
  auto store = Create(FileCheckpointStoreFactory(), "path: " + path);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->kind(), "file");
  ASSERT_TRUE((*store)->Commit(CheckpointMap{{"k", "1"}}).ok());
  // The lock is held: a second store from the same config fails at startup.
  auto second = Create(FileCheckpointStoreFactory(), "path: " + path);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find(path), std::string::npos);
}

TEST(CheckpointFactories, FileFactoryReportsCorruptFile) {
  TempDir dir;
  const std::string path = dir.File("cp.json");
  WriteFile(path, "{\"format\":");
  auto store = Create(FileCheckpointStoreFactory(), "path: " + path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kCorruption);
}

TEST(CheckpointFactories, SqliteFactoryOpensAWorkingStore) {
  TempDir dir;
  auto store = Create(SqliteCheckpointStoreFactory(), "path: " + dir.File("cp.db"));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->kind(), "sqlite");
  ASSERT_TRUE((*store)->Commit(CheckpointMap{{"k", "1"}}).ok());
  EXPECT_EQ((*store)->Load("k")->value_or(""), "1");
}

TEST(CheckpointFactories, UnknownOptionIsRejected) {
  auto f = FileCheckpointStoreFactory();
  auto node = config::Validate(YAML::Load("paht: x"), *f.options, "checkpoint");
  EXPECT_FALSE(node.ok());
}

}  // namespace
}  // namespace forcepipe
