#pragma once

// Small helpers shared by the emulator: replay-id encoding, UUIDs, hashing, an
// adjustable clock.
//
// Thread safety: free functions are thread-safe; OffsetClock is safe for concurrent use.

#include <atomic>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "core/base64.h"
#include "core/clock.h"

namespace forcepipe::emulator {

// Replay ids are opaque to clients; the emulator writes 8-byte big-endian unsigned integers.
std::string EncodeReplayId(uint64_t id);
// nullopt unless `bytes` is exactly 8 bytes.
std::optional<uint64_t> DecodeReplayId(std::string_view bytes);

// A random (v4) UUID from a process-wide CSPRNG-seeded generator. For rpc ids and tokens.
std::string RandomUuid();
// A v4-shaped UUID drawn from `rng` (deterministic for a seeded rng).
std::string UuidFrom(std::mt19937_64& rng);
// `n` random characters from [A-Za-z0-9] (CSPRNG-seeded).
std::string RandomToken(size_t n);

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);
std::string HexEncode(std::string_view data);
// Base64: core/base64.h.

// A clock that reads `base` and adds an offset that only grows (admin "advance the
// clock"). Does not own `base`.
class OffsetClock final : public Clock {
 public:
  explicit OffsetClock(Clock* base) : base_(base) {}
  int64_t NowUnixNanos() const override { return base_->NowUnixNanos() + offset_.load(); }
  SteadyTime SteadyNow() const override { return base_->SteadyNow() + Duration(offset_.load()); }
  // Waits run on `base` with the deadline moved back by the offset at the time
  // of the call (an Advance during a wait does not shorten it).
  bool WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                 SteadyTime deadline, const std::function<bool()>& pred) const override {
    return base_->WaitUntil(lock, cv, deadline - Duration(offset_.load()), pred);
  }
  void SleepUntil(SteadyTime deadline) const override {
    base_->SleepUntil(deadline - Duration(offset_.load()));
  }
  void Advance(Duration d) { offset_.fetch_add(d.count()); }

 private:
  Clock* base_;
  std::atomic<int64_t> offset_{0};
};

inline int64_t NowMillis(const Clock& c) { return c.NowUnixNanos() / 1'000'000; }

}  // namespace forcepipe::emulator
