#include "checkpoint/memory_store.h"

#include <chrono>

#include "checkpoint/commit_logic.h"

namespace forcepipe {

Result<std::optional<std::string>> MemoryCheckpointStore::Load(std::string_view key) {
  std::lock_guard<std::mutex> l(mu_);
  if (load_failures_left_ > 0) {
    --load_failures_left_;
    return load_failure_;
  }
  auto it = values_.find(key);
  if (it == values_.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

Result<CheckpointMap> MemoryCheckpointStore::LoadAll() {
  std::lock_guard<std::mutex> l(mu_);
  if (load_failures_left_ > 0) {
    --load_failures_left_;
    return load_failure_;
  }
  return values_;
}

Status MemoryCheckpointStore::Commit(const CommitRequest& request) {
  Status result;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (commit_failures_left_ > 0) {
      --commit_failures_left_;
      result = commit_failure_;
    } else {
      result = checkpoint::CheckCommit(request, values_, max_epoch_, "memory checkpoint store");
      if (result.ok()) checkpoint::ApplyCommit(request, values_, max_epoch_);
    }
    log_.push_back({request, result});
  }
  if (result.ok()) changed_.notify_all();
  return result;
}

void MemoryCheckpointStore::FailNextCommit(Status status, int n) {
  std::lock_guard<std::mutex> l(mu_);
  commit_failure_ = std::move(status);
  commit_failures_left_ = n;
}

void MemoryCheckpointStore::FailNextLoad(Status status, int n) {
  std::lock_guard<std::mutex> l(mu_);
  load_failure_ = std::move(status);
  load_failures_left_ = n;
}

std::vector<MemoryCheckpointStore::CommitRecord> MemoryCheckpointStore::commit_log() const {
  std::lock_guard<std::mutex> l(mu_);
  return log_;
}

std::vector<CommitRequest> MemoryCheckpointStore::successful_commits() const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<CommitRequest> out;
  for (const auto& r : log_) {
    if (r.status.ok()) out.push_back(r.request);
  }
  return out;
}

CheckpointMap MemoryCheckpointStore::Snapshot() const {
  std::lock_guard<std::mutex> l(mu_);
  return values_;
}

uint64_t MemoryCheckpointStore::epoch() const {
  std::lock_guard<std::mutex> l(mu_);
  return max_epoch_;
}

bool MemoryCheckpointStore::WaitUntil(const std::function<bool(const CheckpointMap&)>& pred,
                                      Duration timeout) const {
  std::unique_lock<std::mutex> l(mu_);
  return changed_.wait_for(l, timeout, [&] { return pred(values_); });
}

bool MemoryCheckpointStore::WaitForValue(std::string_view key, std::string_view value,
                                         Duration timeout) const {
  return WaitUntil(
      [&](const CheckpointMap& m) {
        auto it = m.find(key);
        return it != m.end() && it->second == value;
      },
      timeout);
}

}  // namespace forcepipe
