#pragma once

// An injectable clock. Production code reads time, and waits for time to pass,
// only through a Clock, so tests can drive timers deterministically with
// ManualClock instead of waiting real milliseconds.
//
// Thread safety: implementations are safe for concurrent use.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <set>

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

  // Blocks until `pred()` is true or this clock's steady time reaches
  // `deadline`, whichever comes first. `lock` must hold the mutex that guards
  // the state `pred` reads, and whoever changes that state notifies `cv`
  // (exactly as with std::condition_variable::wait_until). Returns `pred()`
  // as last evaluated, with `lock` held.
  // Const: waiting does not change the clock, so code holding a `const Clock*` can wait.
  virtual bool WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                         SteadyTime deadline, const std::function<bool()>& pred) const = 0;
  bool WaitFor(std::unique_lock<std::mutex>& lock, std::condition_variable& cv, Duration d,
               const std::function<bool()>& pred) const {
    return WaitUntil(lock, cv, SteadyNow() + d, pred);
  }

  // Blocks until this clock's steady time reaches `deadline`. Not
  // interruptible: code that must react to a stop uses WaitUntil.
  virtual void SleepUntil(SteadyTime deadline) const = 0;
  void SleepFor(Duration d) const { SleepUntil(SteadyNow() + d); }

  // The process-wide real clock.
  static Clock* Real();
};

// A clock that only moves when told. Steady and wall time advance together.
//
// Waits on a ManualClock end when the predicate holds or when Advance() moves
// time past their deadline; real time never ends them. A waiter re-checks its
// predicate and the manual time at least every millisecond of real time, so a
// notify or an Advance is seen promptly without ManualClock knowing the
// waiter's mutex (which keeps lock ordering trivial).
//
// Tests synchronise with waiters through WaitForWaiters(): "advance once the
// batcher is blocked on its interval" is
//   clock.WaitForWaiters(1, 5s); clock.Advance(interval);
class ManualClock : public Clock {
 public:
  explicit ManualClock(int64_t start_unix_nanos = 1'700'000'000'000'000'000)
      : unix_nanos_(start_unix_nanos) {}

  int64_t NowUnixNanos() const override;
  SteadyTime SteadyNow() const override;
  bool WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                 SteadyTime deadline, const std::function<bool()>& pred) const override;
  void SleepUntil(SteadyTime deadline) const override;

  void Advance(Duration d);
  // Advances exactly to the earliest deadline any thread is waiting for (no-op
  // when nobody waits or it has passed). Returns whether time moved.
  bool AdvanceToNextDeadline();

  // Number of threads blocked in WaitUntil/SleepUntil right now.
  size_t waiters() const;
  // Waits (in real time, up to `real_timeout`) until at least `n` threads are
  // blocked on this clock. Returns false on timeout. For tests only.
  bool WaitForWaiters(size_t n, std::chrono::milliseconds real_timeout) const;

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable waiters_changed_;
  int64_t unix_nanos_;
  Duration steady_{Duration::zero()};
  mutable std::multiset<SteadyTime> deadlines_;  // one per blocked waiter
};

}  // namespace forcepipe
