#pragma once

// Config factories for the checkpoint stores. Register with
//   registry.checkpoint_stores.Register(FileCheckpointStoreFactory());
//
//   checkpoint:
//     type: file                        # FileCheckpointStore
//     path: forcepipe-checkpoints.json  # relative paths are relative to the working directory
//   checkpoint:
//     type: sqlite                      # SqliteCheckpointStore
//     path: forcepipe-checkpoints.db
//
// Creating a store opens it: lock conflicts and corrupt files are reported by
// create() as startup errors.

#include "config/registry.h"

namespace forcepipe {

CheckpointStoreFactory FileCheckpointStoreFactory();
CheckpointStoreFactory SqliteCheckpointStoreFactory();

}  // namespace forcepipe
