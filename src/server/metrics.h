#pragma once

// Prometheus metrics for a running Engine, computed at scrape time from the
// engine's counters (no second set of counters to keep in sync), serialized
// with prometheus-cpp's text format.
//
// Names: `forcepipe_` prefix, base units (seconds, bytes), `_total` counters.

#include <string>

#include "pipeline/engine.h"

namespace forcepipe::server {

// Renders every metric of `engine` in Prometheus text format 0.0.4.
// `ready` is the current readiness verdict.
std::string RenderMetrics(const Engine& engine, const std::string& version, bool ready,
                          const Clock& clock);

}  // namespace forcepipe::server
