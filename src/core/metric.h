#pragma once

// A component-specific metric sample (Pub/Sub credits and reconnects, Loki
// splits, SQL rows pruned, ...). Components return them from Metrics(); the
// server renders them on /metrics with the `forcepipe_` prefix added and the
// component's instance label (`source` or `sink`) prepended.

#include <string>
#include <vector>

#include "core/entry.h"

namespace forcepipe {

struct MetricSample {
  std::string name;  // e.g. "pubsub_reconnects_total"
  std::string help;
  bool counter = true;
  std::vector<Label> labels;
  double value = 0;
};

}  // namespace forcepipe
