#pragma once

// An injectable clock. Production code reads time only through a Clock so tests
// can drive timers deterministically.
//
// Thread safety: implementations are safe for concurrent use.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace forcepipe {

using Duration = std::chrono::nanoseconds;
using SteadyTime = std::chrono::steady_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, nanoseconds since the Unix epoch.
  virtual int64_t NowUnixNanos() const = 0;
  // Monotonic time, for deadlines and intervals.
  virtual SteadyTime SteadyNow() const = 0;

  // The process-wide real clock.
  static Clock* Real();
};

// A clock that only moves when told. Steady and wall time advance together.
class ManualClock : public Clock {
 public:
  explicit ManualClock(int64_t start_unix_nanos = 1'700'000'000'000'000'000)
      : unix_nanos_(start_unix_nanos) {}

  int64_t NowUnixNanos() const override {
    std::lock_guard<std::mutex> l(mu_);
    return unix_nanos_;
  }
  SteadyTime SteadyNow() const override {
    std::lock_guard<std::mutex> l(mu_);
    return SteadyTime(steady_);
  }
  void Advance(Duration d) {
    std::lock_guard<std::mutex> l(mu_);
    unix_nanos_ += d.count();
    steady_ += d;
  }

 private:
  mutable std::mutex mu_;
  int64_t unix_nanos_;
  Duration steady_{Duration::zero()};
};

}  // namespace forcepipe
