#include "pipeline/commit_tracker.h"

namespace forcepipe {

void CommitTracker::Register(uint64_t sequence, CheckpointMap checkpoints) {
  std::lock_guard<std::mutex> l(mu_);
  slots_[sequence].checkpoints = std::move(checkpoints);
}

Status CommitTracker::Complete(uint64_t sequence, bool delivered) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = slots_.find(sequence);
  if (it == slots_.end())
    return Status::Internal("completing unknown batch " + std::to_string(sequence));
  it->second.state = delivered ? Slot::State::kDelivered : Slot::State::kAbandoned;

  bool advanced = false;
  while (!slots_.empty() && slots_.begin()->second.state != Slot::State::kPending) {
    Slot& head = slots_.begin()->second;
    if (head.state == Slot::State::kAbandoned) {
      for (const auto& [k, v] : head.checkpoints) blocked_.insert(k);
    } else {
      for (auto& [k, v] : head.checkpoints) {
        if (blocked_.count(k)) continue;
        unsaved_[k] = std::move(v);
        advanced = true;
      }
    }
    slots_.erase(slots_.begin());
  }
  if (!advanced && unsaved_.empty()) return Status::Ok();
  return CommitLocked();
}

Status CommitTracker::Flush() {
  std::lock_guard<std::mutex> l(mu_);
  return CommitLocked();
}

Status CommitTracker::CommitLocked() {
  if (unsaved_.empty()) return Status::Ok();
  if (store_) {
    CommitRequest req;
    req.set = unsaved_;
    if (epoch_) {
      auto e = epoch_();
      if (!e.ok()) {
        ++commit_failures_;
        return e.status();
      }
      req.epoch = *e;
    }
    Status s = store_->Commit(req);
    if (!s.ok()) {
      ++commit_failures_;
      return s;
    }
  }
  if (observer_) observer_(unsaved_);
  for (auto& [k, v] : unsaved_) committed_[k] = std::move(v);
  unsaved_.clear();
  ++commits_;
  return Status::Ok();
}

size_t CommitTracker::pending() const {
  std::lock_guard<std::mutex> l(mu_);
  return slots_.size();
}

std::set<std::string> CommitTracker::blocked_keys() const {
  std::lock_guard<std::mutex> l(mu_);
  return {blocked_.begin(), blocked_.end()};
}

CheckpointMap CommitTracker::committed() const {
  std::lock_guard<std::mutex> l(mu_);
  return committed_;
}

uint64_t CommitTracker::commits() const {
  std::lock_guard<std::mutex> l(mu_);
  return commits_;
}

uint64_t CommitTracker::commit_failures() const {
  std::lock_guard<std::mutex> l(mu_);
  return commit_failures_;
}

}  // namespace forcepipe
