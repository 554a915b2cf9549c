#include "pipeline/lane.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <thread>

#include "checkpoint/memory_store.h"
#include "testing/fakes.h"

namespace forcepipe {
namespace {

using testing::CollectingSink;
using testing::MakeCheckpointOnly;
using testing::MakeEntry;
using testing::WaitUntil;

LaneOptions FastOptions() {
  LaneOptions o;
  o.batch_interval = std::chrono::milliseconds(1);
  o.retry.initial = std::chrono::microseconds(10);
  o.retry.max = std::chrono::microseconds(200);
  return o;
}

// A store that checks, on every commit, that each committed position is backed
// by delivered (or deliberately dropped) entries: the at-least-once invariant.
class CheckingStore final : public CheckpointStore {
 public:
  explicit CheckingStore(std::function<std::string(const CheckpointMap&)> check)
      : check_(std::move(check)) {}
  std::string_view kind() const override { return "checking"; }
  Result<std::optional<std::string>> Load(std::string_view key) override {
    return std::optional<std::string>();
  }
  Result<CheckpointMap> LoadAll() override { return values_; }
  Status Commit(const CommitRequest& r) override {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [k, v] : r.set) {
      auto it = values_.find(k);
      if (it != values_.end() && std::stoll(v) < std::stoll(it->second)) {
        violations_.push_back("key " + k + " moved backwards " + it->second + " -> " + v);
      }
    }
    std::string bad = check_(r.set);
    if (!bad.empty()) violations_.push_back(bad);
    for (const auto& [k, v] : r.set) values_[k] = v;
    return Status::Ok();
  }
  std::vector<std::string> violations() const {
    std::lock_guard<std::mutex> l(mu_);
    return violations_;
  }
  CheckpointMap Snapshot() const {
    std::lock_guard<std::mutex> l(mu_);
    return values_;
  }

 private:
  std::function<std::string(const CheckpointMap&)> check_;
  mutable std::mutex mu_;
  CheckpointMap values_;
  std::vector<std::string> violations_;
};

struct Produced {
  std::string key;
  int64_t seq;
  bool real;
};

// Property: under random retryable and permanent failures with up to four
// pushes in flight, (1) no committed position ever passes an entry that was
// neither delivered nor deliberately dropped, (2) per-key positions never move
// backwards, (3) after draining, every key's last position is committed and
// every entry was delivered or counted as dropped.
TEST(LaneProperty, PerKeyCommitOrderUnderRandomFailures) {
  const char* env = std::getenv("FORCEPIPE_PROPERTY_SEEDS");
  const int kSeeds = env ? std::atoi(env) : 2000;
  for (int seed = 1; seed <= kSeeds; ++seed) {
    std::mt19937_64 rng(seed);
    const int keys = 1 + static_cast<int>(rng() % 4);
    const int n = 20 + static_cast<int>(rng() % 120);
    std::vector<Produced> produced;
    std::map<std::string, int64_t> next;
    std::vector<Entry> entries;
    for (int i = 0; i < n; ++i) {
      std::string key = "k" + std::to_string(rng() % keys);
      int64_t seq = ++next[key];
      bool real = rng() % 6 != 0;
      produced.push_back({key, seq, real});
      entries.push_back(real ? MakeEntry(key, std::to_string(seq), key + ":" + std::to_string(seq))
                             : MakeCheckpointOnly(key, std::to_string(seq)));
    }

    CollectingSink sink;
    std::mutex rng_mu;
    std::mt19937_64 fail_rng(seed * 31 + 7);
    std::mutex dropped_mu;
    std::set<std::string> dropped;  // lines
    sink.SetHook([&](const Batch& b) -> std::optional<PushOutcome> {
      std::lock_guard<std::mutex> l(rng_mu);
      uint64_t r = fail_rng() % 10;
      if (r < 3) return PushOutcome::Retryable("random");
      if (r == 3 && !b.entries.empty()) {
        std::vector<Rejection> rej;
        for (size_t i = 0; i < b.entries.size(); ++i) {
          if (fail_rng() % 3 == 0) rej.push_back({i, "random poison"});
        }
        std::lock_guard<std::mutex> dl(dropped_mu);
        for (const auto& x : rej) dropped.insert(b.entries[x.index].line);
        return PushOutcome::Permanent(std::move(rej));
      }
      return std::nullopt;
    });

    CheckingStore store([&](const CheckpointMap& set) -> std::string {
      auto delivered = sink.delivered();
      std::set<std::string> got;
      for (const auto& e : delivered) got.insert(e.line);
      std::lock_guard<std::mutex> dl(dropped_mu);
      for (const auto& [k, v] : set) {
        int64_t upto = std::stoll(v);
        for (const auto& p : produced) {
          if (p.key != k || !p.real || p.seq > upto) continue;
          std::string line = p.key + ":" + std::to_string(p.seq);
          if (!got.count(line) && !dropped.count(line)) {
            return "committed " + k + "=" + v + " before " + line + " was delivered";
          }
        }
      }
      return "";
    });

    CommitTracker tracker(&store);
    LaneOptions o = FastOptions();
    o.max_in_flight = 1 + static_cast<int>(rng() % 4);
    o.batch_max_entries = 1 + rng() % 10;
    o.queue_max_entries = 5 + rng() % 40;
    o.seed = seed;
    Lane lane(LaneKind::kStreaming, o, &sink, &tracker, Clock::Real());
    lane.Start();
    for (auto& e : entries) ASSERT_TRUE(lane.Push(std::move(e), nullptr));
    lane.Close();
    ASSERT_TRUE(lane.WaitDrained(std::chrono::steady_clock::now() + std::chrono::seconds(30)))
        << "seed " << seed;
    lane.Join();

    ASSERT_TRUE(store.violations().empty()) << "seed " << seed << ": " << store.violations()[0];
    CheckpointMap want;
    for (const auto& [k, v] : next) want[k] = std::to_string(v);
    ASSERT_EQ(store.Snapshot(), want) << "seed " << seed;
    size_t real = 0;
    for (const auto& p : produced) real += p.real;
    ASSERT_EQ(lane.stats().entries_delivered + lane.stats().entries_dropped, real)
        << "seed " << seed;
    ASSERT_EQ(sink.delivered_count() + dropped.size(), real) << "seed " << seed;
  }
}

TEST(Lane, CheckpointOnlyWaitsForEarlierRealEntriesOnItsKey) {
  CollectingSink sink;
  MemoryCheckpointStore store;
  CommitTracker tracker(&store);
  std::atomic<bool> release{false};
  sink.SetHook([&](const Batch& b) -> std::optional<PushOutcome> {
    if (!release.load()) return PushOutcome::Retryable("held");
    return std::nullopt;
  });
  LaneOptions o = FastOptions();
  o.batch_max_entries = 1;
  o.max_in_flight = 2;
  Lane lane(LaneKind::kStreaming, o, &sink, &tracker, Clock::Real());
  lane.Start();
  ASSERT_TRUE(lane.Push(MakeEntry("a", "1", "a1"), nullptr));
  ASSERT_TRUE(lane.Push(MakeCheckpointOnly("a", "7"), nullptr));
  // The keepalive position is formed into its own (entry-less) batch quickly,
  // but must not commit while a1 is undelivered.
  EXPECT_FALSE(
      WaitUntil([&] { return !store.Snapshot().empty(); }, std::chrono::milliseconds(100)));
  release = true;
  EXPECT_TRUE(WaitUntil([&] { return store.Snapshot() == CheckpointMap{{"a", "7"}}; }));
  lane.Close();
  lane.Join();
  // The checkpoint-only entry never reached the sink.
  ASSERT_EQ(sink.delivered_count(), 1u);
  EXPECT_EQ(sink.delivered()[0].line, "a1");
}

TEST(Lane, AbandonedBatchBarrierAtShutdownDeadline) {
  CollectingSink sink;
  MemoryCheckpointStore store;
  CommitTracker tracker(&store);
  sink.SetHook([&](const Batch& b) -> std::optional<PushOutcome> {
    if (!b.entries.empty() && b.entries[0].line == "a1")
      return PushOutcome::Retryable("a1 never lands");
    return std::nullopt;
  });
  LaneOptions o = FastOptions();
  o.batch_max_entries = 1;
  o.max_in_flight = 4;
  Lane lane(LaneKind::kStreaming, o, &sink, &tracker, Clock::Real());
  lane.Start();
  ASSERT_TRUE(lane.Push(MakeEntry("a", "1", "a1"), nullptr));
  ASSERT_TRUE(lane.Push(MakeEntry("b", "1", "b1"), nullptr));
  ASSERT_TRUE(lane.Push(MakeEntry("a", "2", "a2"), nullptr));
  ASSERT_TRUE(lane.Push(MakeEntry("b", "2", "b2"), nullptr));
  lane.Close();
  EXPECT_TRUE(WaitUntil([&] { return sink.delivered_count() == 3; }));
  EXPECT_FALSE(lane.WaitDrained(std::chrono::steady_clock::now() + std::chrono::milliseconds(50)));
  lane.Abort();
  lane.Join();
  // a2 was delivered but a1 was not: a's checkpoint must not move. b is free.
  EXPECT_EQ(store.Snapshot(), (CheckpointMap{{"b", "2"}}));
  EXPECT_EQ(tracker.blocked_keys(), (std::set<std::string>{"a"}));
  EXPECT_EQ(lane.stats().batches_abandoned.load(), 1u);
}

TEST(Lane, StalledSinkBlocksProducerWithinByteBudget) {
  CollectingSink sink;
  MemoryCheckpointStore store;
  CommitTracker tracker(&store);
  std::mutex m;
  std::condition_variable cv;
  bool open = false;
  sink.SetHook([&](const Batch&) -> std::optional<PushOutcome> {
    std::unique_lock<std::mutex> l(m);
    cv.wait(l, [&] { return open; });
    return std::nullopt;
  });
  LaneOptions o = FastOptions();
  o.queue_max_entries = 1'000'000;
  o.queue_max_bytes = 64 * 1024;
  o.batch_max_entries = 10;
  o.max_in_flight = 2;
  Lane lane(LaneKind::kStreaming, o, &sink, &tracker, Clock::Real());
  lane.Start();
  std::atomic<int> pushed{0};
  std::atomic<size_t> max_held{0};
  const int kTotal = 2000;
  std::thread producer([&] {
    for (int i = 1; i <= kTotal; ++i) {
      Entry e = MakeEntry("k", std::to_string(i), std::string(1000, 'x'));
      if (!lane.Push(std::move(e), nullptr)) return;
      pushed = i;
      max_held = std::max(max_held.load(), lane.held_bytes());
    }
  });
  // The producer stalls once the budget is used up: about 64 KiB / ~1.1 KiB entries.
  ASSERT_TRUE(WaitUntil([&] { return pushed.load() > 10; }));
  int before = 0;
  EXPECT_FALSE(WaitUntil(
      [&] {
        before = pushed.load();
        return before == kTotal;
      },
      std::chrono::milliseconds(200)));
  int stalled = pushed.load();
  EXPECT_LT(stalled, 100) << "producer was not blocked by the byte budget";
  EXPECT_LE(lane.held_bytes(), o.queue_max_bytes);
  EXPECT_LE(max_held.load(), o.queue_max_bytes);
  {
    std::lock_guard<std::mutex> l(m);
    open = true;
  }
  cv.notify_all();
  producer.join();
  lane.Close();
  ASSERT_TRUE(lane.WaitDrained(std::chrono::steady_clock::now() + std::chrono::seconds(30)));
  lane.Join();
  EXPECT_EQ(sink.delivered_count(), static_cast<size_t>(kTotal));
  EXPECT_EQ(store.Snapshot().at("k"), std::to_string(kTotal));
  EXPECT_EQ(lane.held_bytes(), 0u);
}

TEST(Lane, FlushesOnMaxBytesAndInterval) {
  CollectingSink sink;
  MemoryCheckpointStore store;
  CommitTracker tracker(&store);
  LaneOptions o = FastOptions();
  o.batch_max_entries = 1000;
  o.batch_max_bytes = 5000;
  o.batch_interval = std::chrono::hours(1);
  Lane lane(LaneKind::kBulk, o, &sink, &tracker, Clock::Real());
  lane.Start();
  for (int i = 1; i <= 10; ++i)
    ASSERT_TRUE(lane.Push(MakeEntry("k", std::to_string(i), std::string(1000, 'y')), nullptr));
  // ~1.1 KB each: every 5th entry crosses 5000 bytes, so two full batches flush
  // although the interval is an hour.
  EXPECT_TRUE(WaitUntil([&] { return sink.delivered_count() == 10; }));
  auto sizes = sink.batch_sizes();
  ASSERT_EQ(sizes.size(), 2u);
  EXPECT_EQ(sizes[0], 5u);
  lane.Close();
  lane.Join();

  lane.Close();
  lane.Join();
}

TEST(Lane, PartialBatchFlushesOnlyWhenManualClockPassesInterval) {
  CollectingSink sink;
  MemoryCheckpointStore store;
  CommitTracker tracker(&store);
  ManualClock clock;
  LaneOptions o = FastOptions();
  o.batch_interval = std::chrono::seconds(10);
  Lane lane(LaneKind::kBulk, o, &sink, &tracker, &clock);
  lane.Start();
  ASSERT_TRUE(lane.Push(MakeEntry("k2", "1", "one"), nullptr));
  // Popped into the batch, and the batcher blocked on the manual interval.
  ASSERT_TRUE(WaitUntil([&] { return lane.queued_entries() == 0; }));
  ASSERT_TRUE(clock.WaitForWaiters(1, std::chrono::seconds(10)));
  clock.Advance(std::chrono::seconds(9));
  ASSERT_TRUE(clock.WaitForWaiters(1, std::chrono::seconds(10)));
  EXPECT_EQ(sink.delivered_count(), 0u);
  clock.Advance(std::chrono::seconds(1));
  EXPECT_TRUE(WaitUntil([&] { return sink.delivered_count() == 1; }));  // by interval
  lane.Close();
  lane.Join();
}

TEST(Lane, RetryWaitsForRetryAfterHintOnManualClock) {
  CollectingSink sink;
  MemoryCheckpointStore store;
  CommitTracker tracker(&store);
  ManualClock clock;
  sink.FailNextPush(CollectingSink::Fail::kRetryable, 1, std::chrono::seconds(30));
  LaneOptions o = FastOptions();
  o.batch_max_entries = 1;  // dispatch at once, no interval wait
  Lane lane(LaneKind::kStreaming, o, &sink, &tracker, &clock);
  lane.Start();
  ASSERT_TRUE(lane.Push(MakeEntry("k", "1", "x"), nullptr));
  ASSERT_TRUE(WaitUntil([&] { return sink.pushes() == 1; }));
  // The batcher (idle) and the worker (in backoff) both wait on the clock.
  ASSERT_TRUE(clock.WaitForWaiters(2, std::chrono::seconds(10)));
  clock.Advance(std::chrono::seconds(29));
  ASSERT_TRUE(clock.WaitForWaiters(2, std::chrono::seconds(10)));
  EXPECT_EQ(sink.pushes(), 1u);  // the 30 s floor holds
  clock.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(WaitUntil([&] { return sink.delivered_count() == 1; }));
  EXPECT_EQ(lane.stats().retries.load(), 1u);
  lane.Close();
  lane.Join();
}

TEST(Lane, WaitDrainedDeadlineIsOnTheLaneClock) {
  CollectingSink sink;
  MemoryCheckpointStore store;
  CommitTracker tracker(&store);
  ManualClock clock;
  sink.FailNextPush(CollectingSink::Fail::kRetryable, 1000, std::chrono::hours(1));
  LaneOptions o = FastOptions();
  o.batch_max_entries = 1;
  Lane lane(LaneKind::kStreaming, o, &sink, &tracker, &clock);
  lane.Start();
  ASSERT_TRUE(lane.Push(MakeEntry("k", "1", "x"), nullptr));
  lane.Close();
  bool drained = true;
  std::thread waiter(
      [&] { drained = lane.WaitDrained(clock.SteadyNow() + std::chrono::seconds(5)); });
  // Worker backoff + WaitDrained; the grace ends only when the clock says so.
  ASSERT_TRUE(clock.WaitForWaiters(2, std::chrono::seconds(10)));
  clock.Advance(std::chrono::seconds(5));
  waiter.join();
  EXPECT_FALSE(drained);
  lane.Abort();
  lane.Join();
  EXPECT_EQ(lane.stats().batches_abandoned.load(), 1u);
}

}  // namespace
}  // namespace forcepipe
