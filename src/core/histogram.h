#pragma once

// A lock-free fixed-bucket histogram for metrics (push latency, batch size).
// Observe() is wait-free; Take() (returning a Snapshot) may see a torn view
// across buckets,
// which Prometheus tolerates.

#include <array>
#include <atomic>
#include <cstdint>
#include <vector>

namespace forcepipe {

class Histogram {
 public:
  static constexpr size_t kMaxBuckets = 16;
  // `bounds` are the inclusive upper bounds of the buckets, ascending (at most kMaxBuckets).
  explicit Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {}

  void Observe(double v) {
    size_t i = 0;
    while (i < bounds_.size() && v > bounds_[i]) ++i;
    counts_[i].fetch_add(1, std::memory_order_relaxed);
    // Sum kept in micro-units to stay integral and atomic.
    sum_micros_.fetch_add(static_cast<int64_t>(v * 1e6), std::memory_order_relaxed);
  }

  struct Snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative;  // per bound, then +Inf last
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot Take() const {
    Snapshot s;
    s.bounds = bounds_;
    uint64_t acc = 0;
    for (size_t i = 0; i <= bounds_.size(); ++i) {
      acc += counts_[i].load(std::memory_order_relaxed);
      s.cumulative.push_back(acc);
    }
    s.count = acc;
    s.sum = static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6;
    return s;
  }

 private:
  std::vector<double> bounds_;
  std::array<std::atomic<uint64_t>, kMaxBuckets + 1> counts_{};
  std::atomic<int64_t> sum_micros_{0};
};

}  // namespace forcepipe
