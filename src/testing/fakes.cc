#include "testing/fakes.h"

#include <thread>

namespace forcepipe::testing {

bool WaitUntil(const std::function<bool()>& pred, Duration timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return pred();
    std::this_thread::yield();
    std::this_thread::sleep_for(
        std::chrono::milliseconds(1));  // poll interval, not a wait-for-event
  }
  return true;
}

Status ScriptedSource::Run(SourceContext& ctx) {
  for (auto& e : script_) {
    if (!ctx.Emit(e)) return Status::Ok();
    emitted_.fetch_add(1);
  }
  if (hold_open_) {
    while (ctx.WaitFor(std::chrono::seconds(1))) {
    }
  }
  return Status::Ok();
}

PushOutcome CollectingSink::Push(const Batch& batch) {
  pushes_.fetch_add(1);
  std::function<std::optional<PushOutcome>(const Batch&)> hook;
  {
    std::lock_guard<std::mutex> l(mu_);
    hook = hook_;
  }
  std::optional<PushOutcome> forced;
  if (hook) forced = hook(batch);
  std::lock_guard<std::mutex> l(mu_);
  if (!forced && !failures_.empty()) {
    auto [how, after] = failures_.front();
    failures_.pop_front();
    if (how == Fail::kRetryable) {
      forced = PushOutcome::Retryable("injected", after);
    } else if (how == Fail::kPermanentFirst) {
      forced = PushOutcome::Permanent({{0, "injected poison"}});
    } else {
      std::vector<Rejection> all;
      for (size_t i = 0; i < batch.entries.size(); ++i) all.push_back({i, "injected"});
      forced = PushOutcome::Permanent(std::move(all));
    }
  }
  PushOutcome out = forced ? *forced : PushOutcome::Ok();
  if (out.kind == PushOutcome::Kind::kRetryable) return out;
  std::vector<bool> rejected(batch.entries.size(), false);
  for (const auto& r : out.rejected) {
    if (r.index < rejected.size()) rejected[r.index] = true;
  }
  size_t n = 0;
  for (size_t i = 0; i < batch.entries.size(); ++i) {
    if (!rejected[i]) {
      delivered_.push_back(batch.entries[i]);
      ++n;
    }
  }
  batch_sizes_.push_back(batch.entries.size());
  return out;
}

void CollectingSink::FailNextPush(Fail how, int n, Duration after) {
  std::lock_guard<std::mutex> l(mu_);
  for (int i = 0; i < n; ++i) failures_.emplace_back(how, after);
}

void CollectingSink::SetHook(std::function<std::optional<PushOutcome>(const Batch&)> hook) {
  std::lock_guard<std::mutex> l(mu_);
  hook_ = std::move(hook);
}

std::vector<Entry> CollectingSink::delivered() const {
  std::lock_guard<std::mutex> l(mu_);
  return delivered_;
}

size_t CollectingSink::delivered_count() const {
  std::lock_guard<std::mutex> l(mu_);
  return delivered_.size();
}

std::vector<size_t> CollectingSink::batch_sizes() const {
  std::lock_guard<std::mutex> l(mu_);
  return batch_sizes_;
}

Entry MakeEntry(const std::string& key, const std::string& value, const std::string& line) {
  Entry e;
  e.checkpoint = {key, value};
  e.line = line;
  e.timestamp_ns = 1;
  return e;
}

Entry MakeCheckpointOnly(const std::string& key, const std::string& value) {
  Entry e;
  e.checkpoint = {key, value};
  e.checkpoint_only = true;
  return e;
}

}  // namespace forcepipe::testing
