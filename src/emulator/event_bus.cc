#include "emulator/event_bus.h"

#include <algorithm>
#include <cstdio>
#include <functional>

#include "emulator/util.h"

namespace forcepipe::emulator {
namespace {

// "xxxxxxxx-xxxx-4xxx-8" from a hash of the topic: the part of a firehose event id that
// names the topic; FirehoseIdFromPrefix appends the replay id's 48 bits.
std::string FirehoseIdPrefix(std::string_view topic) {
  const uint64_t h = std::hash<std::string_view>{}(topic);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%08x-%04x-4%03x-8", static_cast<unsigned>(h >> 32),
                static_cast<unsigned>((h >> 16) & 0xffff), static_cast<unsigned>(h & 0xfff));
  return buf;
}

std::string FirehoseIdFromPrefix(const std::string& prefix, uint64_t replay_id) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%03x-%012llx", static_cast<unsigned>((replay_id >> 48) & 0xfff),
                static_cast<unsigned long long>(replay_id & 0xffffffffffffULL));
  return prefix + buf;
}

}  // namespace

std::string FirehoseEventId(std::string_view topic, uint64_t replay_id) {
  return FirehoseIdFromPrefix(FirehoseIdPrefix(topic), replay_id);
}

EventBus::EventBus(Clock* clock, Duration retention, uint64_t seed)
    : clock_(clock), retention_(retention), seed_(seed) {}

void EventBus::AddSchema(const std::string& schema_id, std::string schema_json) {
  std::unique_lock l(mu_);
  schemas_[schema_id] = std::move(schema_json);
}

std::optional<std::string> EventBus::SchemaJson(const std::string& schema_id) const {
  std::shared_lock l(mu_);
  auto it = schemas_.find(schema_id);
  if (it == schemas_.end()) return std::nullopt;
  return it->second;
}

Status EventBus::AddTopic(const std::string& name, const std::string& schema_id,
                          TopicSettings settings) {
  std::unique_lock l(mu_);
  if (topics_.count(name)) return Status::AlreadyExists("topic " + name + " already exists");
  auto t = std::make_unique<Topic>();
  t->name = name;
  t->schema_id = schema_id;
  t->settings = std::move(settings);
  t->rng.seed(seed_ ^ std::hash<std::string>{}(name));
  // Replay ids of a shared bus do not start at 1.
  t->last_replay_id = 1000 + t->rng() % 1000;
  t->pruned_through = t->last_replay_id;
  // A firehose serves replay ids from 1 (EARLIEST is 0); before this only its LATEST
  // cursor read firehose_served, which was the arbitrary start above.
  t->firehose_served = t->settings.firehose_payloads.empty() ? t->last_replay_id : 0;
  t->firehose_id_prefix = FirehoseIdPrefix(name);
  topics_[name] = std::move(t);
  return Status::Ok();
}

EventBus::Topic* EventBus::Find(const std::string& name) const {
  std::shared_lock l(mu_);
  auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : it->second.get();
}

bool EventBus::HasTopic(const std::string& name) const { return Find(name) != nullptr; }

std::vector<std::string> EventBus::TopicNames() const {
  std::shared_lock l(mu_);
  std::vector<std::string> out;
  for (const auto& [k, v] : topics_) out.push_back(k);
  return out;
}

Result<std::string> EventBus::TopicSchemaId(const std::string& name) const {
  Topic* t = Find(name);
  if (!t) return Status::NotFound("unknown topic " + name);
  std::lock_guard g(t->mu);
  return t->schema_id;
}

Result<TopicSettings> EventBus::Settings(const std::string& name) const {
  Topic* t = Find(name);
  if (!t) return Status::NotFound("unknown topic " + name);
  std::lock_guard g(t->mu);
  return t->settings;
}

Status EventBus::SetTopicSchema(const std::string& name, const std::string& schema_id) {
  Topic* t = Find(name);
  if (!t) return Status::NotFound("unknown topic " + name);
  if (!SchemaJson(schema_id)) return Status::NotFound("unknown schema id " + schema_id);
  std::lock_guard g(t->mu);
  t->schema_id = schema_id;
  return Status::Ok();
}

void EventBus::PruneLocked(Topic& t) {
  const int64_t cutoff_ms =
      NowMillis(*clock_) -
      std::chrono::duration_cast<std::chrono::milliseconds>(retention_).count();
  while (!t.events.empty() && t.events.front().stored_ms < cutoff_ms) {
    t.pruned_through = t.events.front().replay_id;
    t.events.pop_front();
  }
}

void EventBus::PruneAll() {
  std::shared_lock l(mu_);
  for (auto& [name, t] : topics_) {
    std::lock_guard g(t->mu);
    PruneLocked(*t);
  }
}

Status EventBus::AddMirror(const std::string& from, const std::string& to) {
  Topic* src = Find(from);
  Topic* dst = Find(to);
  if (!src || !dst) return Status::NotFound("unknown topic " + (src ? to : from));
  if (src == dst) return Status::InvalidArgument("a topic cannot mirror into itself");
  {
    std::lock_guard g(dst->mu);
    if (!dst->mirror_to.empty())
      return Status::InvalidArgument(to + " already mirrors into others");
    if (!dst->settings.firehose_payloads.empty()) {
      return Status::InvalidArgument(to + " is a firehose topic");
    }
  }
  std::lock_guard g(src->mu);
  src->mirror_to.push_back(to);
  return Status::Ok();
}

Result<uint64_t> EventBus::Append(const std::string& topic, BusEvent event, std::string origin,
                                  std::string kind) {
  Topic* t = Find(topic);
  if (!t) return Status::NotFound("unknown topic " + topic);
  uint64_t id;
  std::vector<std::string> mirrors;
  std::optional<BusEvent> copy;
  std::string mirror_kind;
  {
    std::lock_guard g(t->mu);
    if (!t->settings.firehose_payloads.empty()) {
      return Status::FailedPrecondition("topic " + topic + " is a firehose topic");
    }
    PruneLocked(*t);
    // Increasing, not contiguous: mostly +1, sometimes a gap of a few ids.
    uint64_t r = t->rng();
    id = t->last_replay_id + 1 + ((r % 4 == 0) ? (r >> 8) % 5 : 0);
    t->last_replay_id = id;
    event.replay_id = id;
    event.stored_ms = NowMillis(*clock_);
    LedgerEntry le;
    le.topic = topic;
    le.event_id = event.event_id;
    le.replay_id = id;
    le.schema_id = event.schema_id;
    le.payload_sha256 = Sha256Hex(event.payload);
    le.payload_size = event.payload.size();
    le.stored_ms = event.stored_ms;
    le.origin = std::move(origin);
    le.kind = std::move(kind);
    mirrors = t->mirror_to;
    if (!mirrors.empty()) {
      copy = event;
      mirror_kind = le.kind;
    }
    t->ledger.push_back(std::move(le));
    t->events.push_back(std::move(event));
  }
  for (const auto& m : mirrors) {
    BusEvent c = *copy;
    (void)Append(m, std::move(c), "mirror", mirror_kind);
  }
  std::function<void(const std::string&)> listener;
  {
    std::lock_guard g(listener_mu_);
    listener = listener_;
  }
  if (listener) listener(topic);
  return id;
}

size_t EventBus::Read(const std::string& topic, uint64_t after, size_t max_events, size_t max_bytes,
                      const std::function<void(const BusEvent&)>& fn) {
  Topic* t = Find(topic);
  if (!t || max_events == 0) return 0;
  std::lock_guard g(t->mu);
  size_t n = 0, bytes = 0;
  if (!t->settings.firehose_payloads.empty()) {
    const auto& pool = t->settings.firehose_payloads;
    BusEvent ev;
    ev.schema_id = t->schema_id;
    while (n < max_events) {
      uint64_t id = after + 1 + n;
      const std::string& p = pool[id % pool.size()];
      if (n > 0 && bytes + p.size() > max_bytes) break;
      ev.replay_id = id;
      ev.payload = p;
      ev.event_id = FirehoseIdFromPrefix(t->firehose_id_prefix, id);
      fn(ev);
      bytes += p.size();
      ++n;
    }
    if (after + n > t->firehose_served) t->firehose_served = after + n;
    return n;
  }
  PruneLocked(*t);
  auto it = std::upper_bound(t->events.begin(), t->events.end(), after,
                             [](uint64_t v, const BusEvent& e) { return v < e.replay_id; });
  for (; it != t->events.end() && n < max_events; ++it) {
    size_t sz = it->payload.size() + it->event_id.size() + it->schema_id.size() + 16;
    if (n > 0 && bytes + sz > max_bytes) break;
    fn(*it);
    bytes += sz;
    ++n;
  }
  return n;
}

uint64_t EventBus::Tip(const std::string& topic) {
  Topic* t = Find(topic);
  if (!t) return 0;
  std::lock_guard g(t->mu);
  if (!t->settings.firehose_payloads.empty()) return t->firehose_served;
  return t->last_replay_id;
}

uint64_t EventBus::EarliestCursor(const std::string& topic) {
  Topic* t = Find(topic);
  if (!t) return 0;
  std::lock_guard g(t->mu);
  if (!t->settings.firehose_payloads.empty()) return 0;
  PruneLocked(*t);
  return t->pruned_through;
}

bool EventBus::IsValidResumePoint(const std::string& topic, uint64_t replay_id) {
  Topic* t = Find(topic);
  if (!t) return false;
  std::lock_guard g(t->mu);
  if (!t->settings.firehose_payloads.empty()) return true;
  PruneLocked(*t);
  return replay_id >= t->pruned_through && replay_id <= t->last_replay_id;
}

std::vector<LedgerEntry> EventBus::Ledger(const std::string& topic) const {
  std::vector<LedgerEntry> out;
  std::shared_lock l(mu_);
  for (const auto& [name, t] : topics_) {
    if (!topic.empty() && name != topic) continue;
    std::lock_guard g(t->mu);
    out.insert(out.end(), t->ledger.begin(), t->ledger.end());
    const auto& pool = t->settings.firehose_payloads;
    if (pool.empty()) continue;
    const auto& kinds = t->settings.firehose_kinds;
    const uint64_t last = std::min(t->firehose_served, kFirehoseLedgerCap);
    for (uint64_t id = 1; id <= last; ++id) {
      LedgerEntry e;
      e.topic = name;
      e.event_id = FirehoseIdFromPrefix(t->firehose_id_prefix, id);
      e.replay_id = id;
      e.schema_id = t->schema_id;
      e.payload_size = pool[id % pool.size()].size();
      e.origin = "firehose";
      if (!kinds.empty()) e.kind = kinds[id % kinds.size()];
      out.push_back(std::move(e));
    }
  }
  return out;
}

size_t EventBus::RetainedCount(const std::string& topic) {
  Topic* t = Find(topic);
  if (!t) return 0;
  std::lock_guard g(t->mu);
  PruneLocked(*t);
  return t->events.size();
}

void EventBus::SetAppendListener(std::function<void(const std::string&)> listener) {
  std::lock_guard g(listener_mu_);
  listener_ = std::move(listener);
}

}  // namespace forcepipe::emulator
