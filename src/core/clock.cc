#include "core/clock.h"

#include <limits>
#include <thread>

namespace forcepipe {
namespace {

// How often a ManualClock waiter re-checks in real time. Bounds how long an
// Advance() or a notify that raced the waiter's check can go unnoticed.
constexpr std::chrono::milliseconds kManualPollSlice{1};

class RealClock final : public Clock {
 public:
  int64_t NowUnixNanos() const override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  SteadyTime SteadyNow() const override { return std::chrono::steady_clock::now(); }
  bool WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                 SteadyTime deadline, const std::function<bool()>& pred) const override {
    return cv.wait_until(lock, deadline, pred);
  }
  void SleepUntil(SteadyTime deadline) const override { std::this_thread::sleep_until(deadline); }
};

}  // namespace

Clock* Clock::Real() {
  static RealClock clock;
  return &clock;
}

int64_t ManualClock::NowUnixNanos() const {
  std::lock_guard<std::mutex> l(mu_);
  return unix_nanos_;
}

SteadyTime ManualClock::SteadyNow() const {
  std::lock_guard<std::mutex> l(mu_);
  return SteadyTime(steady_);
}

bool ManualClock::WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                            SteadyTime deadline, const std::function<bool()>& pred) const {
  if (pred()) return true;
  std::multiset<SteadyTime>::iterator slot;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (SteadyTime(steady_) >= deadline) return pred();
    slot = deadlines_.insert(deadline);
  }
  waiters_changed_.notify_all();
  bool result = false;
  for (;;) {
    if (pred()) {
      result = true;
      break;
    }
    if (SteadyNow() >= deadline) {
      result = pred();
      break;
    }
    cv.wait_for(lock, kManualPollSlice);
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    deadlines_.erase(slot);
  }
  waiters_changed_.notify_all();
  return result;
}

void ManualClock::SleepUntil(SteadyTime deadline) const {
  std::mutex m;
  std::condition_variable cv;
  std::unique_lock<std::mutex> l(m);
  WaitUntil(l, cv, deadline, [] { return false; });
}

void ManualClock::Advance(Duration d) {
  std::lock_guard<std::mutex> l(mu_);
  unix_nanos_ += d.count();
  steady_ += d;
}

bool ManualClock::AdvanceToNextDeadline() {
  std::lock_guard<std::mutex> l(mu_);
  // A wait until SteadyTime::max() (or near it) has no deadline to advance to: moving the
  // clock there would overflow the wall time. Only deadlines the wall clock can reach count.
  const Duration reachable = Duration(std::numeric_limits<int64_t>::max() - unix_nanos_) + steady_;
  auto it = deadlines_.begin();
  if (it == deadlines_.end() || it->time_since_epoch() > reachable) return false;
  Duration to = it->time_since_epoch();
  if (to <= steady_) return false;
  unix_nanos_ += (to - steady_).count();
  steady_ = to;
  return true;
}

size_t ManualClock::waiters() const {
  std::lock_guard<std::mutex> l(mu_);
  return deadlines_.size();
}

bool ManualClock::WaitForWaiters(size_t n, std::chrono::milliseconds real_timeout) const {
  std::unique_lock<std::mutex> l(mu_);
  return waiters_changed_.wait_for(l, real_timeout, [&] { return deadlines_.size() >= n; });
}

}  // namespace forcepipe
