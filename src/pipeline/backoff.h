#pragma once

// Exponential backoff with full jitter: attempt n waits a uniformly random time
// in [0, min(max, initial * 2^n)]. A server's `after` hint is a floor (capped by
// `max_after`). Deterministic for a given seed.

#include <algorithm>
#include <cstdint>
#include <random>

#include "core/clock.h"

namespace forcepipe {

struct BackoffPolicy {
  Duration initial = std::chrono::milliseconds(100);
  Duration max = std::chrono::seconds(30);
  Duration max_after = std::chrono::minutes(5);
};

class Backoff {
 public:
  Backoff(BackoffPolicy policy, uint64_t seed) : policy_(policy), rng_(seed) {}

  // The wait before retry number `attempt` (0-based), honouring `after`.
  Duration Next(int attempt, Duration after = Duration{0}) {
    int shift = std::min(attempt, 30);
    int64_t cap = policy_.initial.count();
    for (int i = 0; i < shift && cap < policy_.max.count(); ++i) cap *= 2;
    cap = std::min<int64_t>(cap, policy_.max.count());
    std::uniform_int_distribution<int64_t> dist(0, std::max<int64_t>(cap, 0));
    Duration jittered{dist(rng_)};
    Duration floor = std::min(after, policy_.max_after);
    return std::max(jittered, floor);
  }

  const BackoffPolicy& policy() const { return policy_; }

 private:
  BackoffPolicy policy_;
  std::mt19937_64 rng_;
};

}  // namespace forcepipe
