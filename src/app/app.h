#pragma once

// The composition root: turns one YAML config into a running Engine through the
// registry of factories. The only place that knows every component.

#include <memory>
#include <string>
#include <vector>

#include "config/node.h"
#include "config/registry.h"
#include "core/checkpoint_store.h"
#include "core/clock.h"
#include "core/status.h"
#include "pipeline/engine.h"
#include "server/server.h"

namespace YAML {
class Node;
}

namespace forcepipe::app {

// Registers every built-in source, sink and checkpoint store kind.
Status RegisterBuiltins(Registry& registry);

// A config with every section validated against its kind's option table.
struct LoadedConfig {
  template <typename T>
  struct Instance {
    std::string name;
    std::string path;  // e.g. "sinks.out"
    const Factory<T>* factory = nullptr;
    config::Node node;
  };

  std::string file;  // where it was read from ("" for text)
  config::Node top;  // data_dir, pipeline
  std::vector<Instance<Source>> sources;
  Instance<Sink> sink;
  bool has_checkpoint = false;  // false: the sink is the checkpoint store
  Instance<CheckpointStore> checkpoint;
  std::vector<std::unique_ptr<config::OptionTable>> tables;  // owned tables the nodes point into
};

// Validates `root` against every option table, plus what spans options:
// data_dir non-empty, server.listen a host:port, a sink's retry
// initial_backoff at most its max_backoff, instance names usable as keys and
// file names. Errors name the full path. Every secret value found is
// registered with the log redactor.
Result<std::unique_ptr<LoadedConfig>> LoadConfig(
    const YAML::Node& root, const Registry& registry,
    const config::Environment& env = config::Environment::Process());
Result<std::unique_ptr<LoadedConfig>> LoadConfigFile(const std::string& path,
                                                     const Registry& registry);

// Runs every check BuildEngine makes (each factory validates its own
// section: DSNs, topics, retention, the checkpoint requirement) without
// creating directories, opening stores or connecting to anything. Config
// errors are kInvalidArgument. `forcepipe config check` is this.
Status CheckConfig(const LoadedConfig& config);

// Builds the engine (sources, sink, checkpoint store) from a loaded config.
// Fails wherever CheckConfig fails, and also when data_dir or the checkpoint
// store cannot be created or opened.
Result<std::unique_ptr<Engine>> BuildEngine(const LoadedConfig& config,
                                            const Clock* clock = Clock::Real());

// Starts the status/metrics server for `engine` when the config enables it
// (returns null when disabled). The server must be stopped before the engine dies.
Result<std::unique_ptr<server::StatusServer>> StartServer(const LoadedConfig& config,
                                                          const Engine& engine,
                                                          const std::string& version);

// Opens the checkpoint store the config's pipeline commits to (the sink's own
// when it is transactional), for `forcepipe state`.
Result<std::shared_ptr<CheckpointStore>> OpenCheckpointStore(const LoadedConfig& config);

// A complete, commented example config: a runnable synthetic -> jsonl pipeline
// followed by every registered kind's options.
std::string RenderExampleConfig(const Registry& registry);

}  // namespace forcepipe::app
