#include "core/clock.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace forcepipe {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(ManualClock, WaitEndsOnlyWhenAdvancedPastTheDeadline) {
  ManualClock clock;
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<bool> returned{false};
  bool result = true;
  std::thread waiter([&] {
    std::unique_lock<std::mutex> l(mu);
    result = clock.WaitFor(l, cv, seconds(30), [] { return false; });
    returned = true;
  });
  ASSERT_TRUE(clock.WaitForWaiters(1, milliseconds(5000)));
  clock.Advance(seconds(29));
  // Still blocked: 29 of 30 manual seconds have passed. Notifies do not end it.
  cv.notify_all();
  EXPECT_EQ(clock.waiters(), 1u);
  EXPECT_FALSE(returned.load());
  clock.Advance(seconds(1));
  waiter.join();
  EXPECT_TRUE(returned.load());
  EXPECT_FALSE(result);
  EXPECT_EQ(clock.waiters(), 0u);
}

TEST(ManualClock, WaitEndsWhenThePredicateBecomesTrueWithoutTimeMoving) {
  ManualClock clock;
  std::mutex mu;
  std::condition_variable cv;
  bool flag = false;
  bool result = false;
  SteadyTime before = clock.SteadyNow();
  std::thread waiter([&] {
    std::unique_lock<std::mutex> l(mu);
    result = clock.WaitFor(l, cv, std::chrono::hours(1), [&] { return flag; });
  });
  ASSERT_TRUE(clock.WaitForWaiters(1, milliseconds(5000)));
  {
    std::lock_guard<std::mutex> l(mu);
    flag = true;
  }
  cv.notify_all();
  waiter.join();
  EXPECT_TRUE(result);
  EXPECT_EQ(clock.SteadyNow(), before);
}

TEST(ManualClock, AdvanceToNextDeadlineMovesExactlyToTheEarliestWaiter) {
  ManualClock clock;
  SteadyTime start = clock.SteadyNow();
  int64_t wall_start = clock.NowUnixNanos();
  std::thread a([&] { clock.SleepFor(seconds(5)); });
  std::thread b([&] { clock.SleepFor(seconds(2)); });
  ASSERT_TRUE(clock.WaitForWaiters(2, milliseconds(5000)));
  ASSERT_TRUE(clock.AdvanceToNextDeadline());
  EXPECT_EQ(clock.SteadyNow() - start, seconds(2));
  EXPECT_EQ(clock.NowUnixNanos() - wall_start, Duration(seconds(2)).count());
  b.join();
  ASSERT_TRUE(clock.WaitForWaiters(1, milliseconds(5000)));
  ASSERT_TRUE(clock.AdvanceToNextDeadline());
  EXPECT_EQ(clock.SteadyNow() - start, seconds(5));
  a.join();
  EXPECT_FALSE(clock.AdvanceToNextDeadline());
}

TEST(ManualClock, AWaitWithoutDeadlineIsNotAdvancedTo) {
  ManualClock clock;
  const int64_t wall = clock.NowUnixNanos();
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::thread forever([&] {
    std::unique_lock<std::mutex> l(mu);
    clock.WaitUntil(l, cv, SteadyTime::max(), [&] { return done; });
  });
  ASSERT_TRUE(clock.WaitForWaiters(1, milliseconds(5000)));
  EXPECT_FALSE(clock.AdvanceToNextDeadline());  // was a signed overflow of the wall time
  EXPECT_EQ(clock.NowUnixNanos(), wall);
  {
    std::lock_guard<std::mutex> l(mu);
    done = true;
  }
  cv.notify_all();
  forever.join();
}

TEST(ManualClock, WaitWithAPassedDeadlineReturnsAtOnce) {
  ManualClock clock;
  std::mutex mu;
  std::condition_variable cv;
  std::unique_lock<std::mutex> l(mu);
  EXPECT_FALSE(clock.WaitUntil(l, cv, clock.SteadyNow(), [] { return false; }));
  EXPECT_TRUE(clock.WaitUntil(l, cv, clock.SteadyNow(), [] { return true; }));
  EXPECT_EQ(clock.waiters(), 0u);
}

TEST(RealClock, WaitReturnsThePredicateWhenNotified) {
  Clock* clock = Clock::Real();
  std::mutex mu;
  std::condition_variable cv;
  bool flag = false;
  std::thread setter([&] {
    std::lock_guard<std::mutex> l(mu);
    flag = true;
    cv.notify_all();
  });
  std::unique_lock<std::mutex> l(mu);
  EXPECT_TRUE(clock->WaitFor(l, cv, seconds(30), [&] { return flag; }));
  l.unlock();
  setter.join();
}

}  // namespace
}  // namespace forcepipe
