#include "checkpoint/factories.h"

#include "checkpoint/file_store.h"
#include "checkpoint/sqlite_store.h"

namespace forcepipe {
namespace {

const config::OptionTable& FileOptions() {
  static const config::OptionTable table = {
      {.key = "path",
       .type = config::OptionType::kString,
       .default_value = "forcepipe-checkpoints.json",
       .description = "JSON checkpoint file; a lock is held on <path>.lock while running"},
  };
  return table;
}

const config::OptionTable& SqliteOptions() {
  static const config::OptionTable table = {
      {.key = "path",
       .type = config::OptionType::kString,
       .default_value = "forcepipe-checkpoints.db",
       .description = "SQLite database file (WAL mode); table forcepipe_checkpoints"},
  };
  return table;
}

}  // namespace

CheckpointStoreFactory FileCheckpointStoreFactory() {
  CheckpointStoreFactory f;
  f.kind = "file";
  f.description = "checkpoints in a local JSON file (atomic rename, fsync, exclusive lock)";
  f.options = &FileOptions();
  f.create = [](const config::Node& node,
                const FactoryContext&) -> Result<std::unique_ptr<CheckpointStore>> {
    FP_ASSIGN_OR_RETURN(auto store, FileCheckpointStore::Open(node.GetString("path")));
    return std::unique_ptr<CheckpointStore>(std::move(store));
  };
  return f;
}

CheckpointStoreFactory SqliteCheckpointStoreFactory() {
  CheckpointStoreFactory f;
  f.kind = "sqlite";
  f.description = "checkpoints in an SQLite database (WAL, one transaction per commit)";
  f.options = &SqliteOptions();
  f.create = [](const config::Node& node,
                const FactoryContext& ctx) -> Result<std::unique_ptr<CheckpointStore>> {
    FP_ASSIGN_OR_RETURN(auto store, SqliteCheckpointStore::Open(node.GetString("path"), ctx.clock));
    return std::unique_ptr<CheckpointStore>(std::move(store));
  };
  return f;
}

}  // namespace forcepipe
