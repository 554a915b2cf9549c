#pragma once

// Coordinator: leadership for active-passive HA. Pub/Sub has no consumer groups,
// so exactly one instance may stream a given topic; the leader's epoch fences
// every checkpoint commit.

#include <cstdint>
#include <functional>

#include "core/status.h"

namespace forcepipe {

class Coordinator {
 public:
  struct Callbacks {
    std::function<void(uint64_t epoch)> on_acquire;
    std::function<void()> on_lose;
  };
  virtual ~Coordinator() = default;
  // Starts campaigning; callbacks run on the coordinator's thread.
  virtual Status Start(Callbacks callbacks) = 0;
  // The current epoch, valid only while leader; an error otherwise.
  virtual Result<uint64_t> Fence() = 0;
  virtual void Stop() = 0;
};

// Single instance: always the leader, unfenced (epoch 0).
class NoopCoordinator final : public Coordinator {
 public:
  Status Start(Callbacks callbacks) override {
    if (callbacks.on_acquire) callbacks.on_acquire(0);
    return Status::Ok();
  }
  Result<uint64_t> Fence() override { return uint64_t{0}; }
  void Stop() override {}
};

}  // namespace forcepipe
