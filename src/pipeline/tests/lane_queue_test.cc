#include "pipeline/lane_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "testing/fakes.h"

namespace forcepipe {
namespace {

using testing::WaitUntil;

Entry Sized(size_t bytes) {
  Entry e;
  e.byte_size = bytes;
  return e;
}

TEST(LaneQueue, BlocksWhenEntryCountIsFullUntilReleased) {
  LaneQueue q(2, 1 << 20);
  auto never = [] { return false; };
  Entry a = Sized(10), b = Sized(10), c = Sized(10);
  ASSERT_TRUE(q.Push(a, never));
  ASSERT_TRUE(q.Push(b, never));
  std::atomic<bool> pushed{false};
  std::thread t([&] {
    Entry x = Sized(10);
    pushed = q.Push(x, never);
  });
  // The third push stays blocked while two entries are held, even once popped:
  // popping does not release budget, finishing a batch does.
  ASSERT_TRUE(q.PopUntil(std::chrono::steady_clock::now()).has_value());
  EXPECT_FALSE(WaitUntil([&] { return pushed.load(); }, std::chrono::milliseconds(50)));
  q.Release(1, 10);
  EXPECT_TRUE(WaitUntil([&] { return pushed.load(); }));
  t.join();
  EXPECT_EQ(q.held_entries(), 2u);
}

TEST(LaneQueue, BlocksOnBytesAndAdmitsAnOversizedEntryAlone) {
  LaneQueue q(100, 100);
  auto never = [] { return false; };
  Entry big = Sized(1000);
  ASSERT_TRUE(q.Push(big, never));  // alone: admitted although over budget
  std::atomic<bool> pushed{false};
  std::thread t([&] {
    Entry x = Sized(60);
    pushed = q.Push(x, never);
  });
  EXPECT_FALSE(WaitUntil([&] { return pushed.load(); }, std::chrono::milliseconds(50)));
  q.Release(1, 1000);
  EXPECT_TRUE(WaitUntil([&] { return pushed.load(); }));
  t.join();
  EXPECT_EQ(q.held_bytes(), 60u);
}

TEST(LaneQueue, CancelledProducerReturnsFalseWithoutTakingEntry) {
  LaneQueue q(1, 1 << 20);
  std::atomic<bool> cancel{false};
  Entry a = Sized(1);
  ASSERT_TRUE(q.Push(a, [] { return false; }));
  std::atomic<int> result{-1};
  std::thread t([&] {
    Entry x = Sized(1);
    result = q.Push(x, [&] { return cancel.load(); }) ? 1 : 0;
  });
  cancel = true;
  q.WakeProducers();
  EXPECT_TRUE(WaitUntil([&] { return result.load() != -1; }));
  t.join();
  EXPECT_EQ(result.load(), 0);
  EXPECT_EQ(q.held_entries(), 1u);
}

TEST(LaneQueue, CloseDrainsThenReportsEmpty) {
  LaneQueue q(10, 1000);
  Entry a = Sized(1);
  ASSERT_TRUE(q.Push(a, [] { return false; }));
  q.Close();
  Entry b = Sized(1);
  EXPECT_FALSE(q.Push(b, [] { return false; }));
  EXPECT_FALSE(q.closed_and_empty());
  EXPECT_TRUE(q.PopUntil(SteadyTime::max()).has_value());
  EXPECT_FALSE(q.PopUntil(SteadyTime::max()).has_value());
  EXPECT_TRUE(q.closed_and_empty());
}

}  // namespace
}  // namespace forcepipe
