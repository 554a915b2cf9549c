#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "cli/commands.h"
#include "pipeline/engine.h"

namespace forcepipe::cli {

// Runs the pipeline of config file `path`, calling `observer` on a thread of its
// own while it runs; returns the exit code.
using DemoRunner = std::function<int(
    const std::string& path, const std::function<void(Engine&, std::atomic<bool>&)>& observer)>;

// The full demo: embedded emulator -> Pub/Sub -> SQLite. Available when the
// emulator, the Pub/Sub source and the SQL sink are built.
int RealDemo(const Options& o, const DemoRunner& run);

}  // namespace forcepipe::cli
