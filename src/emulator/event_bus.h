#pragma once

// EventBus: the emulator's in-memory event store. Per topic it keeps the retained
// events (ordered by replay id), the topic's current schema id, and a ledger of every
// event ever stored (never pruned) so tests can prove nothing was lost or invented.
// Also holds the schema registry (schema id -> schema JSON).
//
// Retention: events older than `retention` on the injected clock are pruned lazily on
// every access. A CUSTOM replay id below the highest pruned id is "corrupted".
//
// Firehose topics hold no events: they serve an endless sequence of pre-encoded
// payloads with contiguous replay ids, for transport benchmarks. They are not ledgered.
//
// Thread safety: all methods are safe for concurrent use. The append listener runs on
// the appending thread after the topic lock is released.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace forcepipe::emulator {

struct BusEvent {
  uint64_t replay_id = 0;
  std::string event_id;
  std::string schema_id;
  std::string payload;
  std::vector<std::pair<std::string, std::string>> headers;
  int64_t stored_ms = 0;  // wall-clock ms on the bus clock
};

struct LedgerEntry {
  std::string topic;
  std::string event_id;
  uint64_t replay_id = 0;
  std::string schema_id;
  std::string payload_sha256;
  size_t payload_size = 0;
  int64_t stored_ms = 0;
  std::string origin;  // "generated", "published", "admin", "undecodable", "gap"...
  std::string kind;    // change type / event kind, free text ("CREATE", "GAP_OVERFLOW", "login")
};

struct TopicSettings {
  bool can_publish = true;
  bool can_subscribe = true;
  // Non-empty: firehose topic serving these payloads round-robin (with `schema_id`).
  std::vector<std::string> firehose_payloads;
  // Per pool slot, the event's kind for the ledger ("UPDATE", "login"...); may be empty.
  std::vector<std::string> firehose_kinds;
};

// The event id a firehose topic gives the event at `replay_id`: UUID-shaped, unique per
// (topic, replay id) for replay ids below 2^60, the same on every read. Firehose topics
// are not ledgered event by event; Ledger() derives their entries from these ids.
std::string FirehoseEventId(std::string_view topic, uint64_t replay_id);

// At most this many entries are derived for one firehose topic by Ledger().
constexpr uint64_t kFirehoseLedgerCap = 1'000'000;

class EventBus {
 public:
  // `clock` must outlive the bus. `seed` drives replay-id gaps.
  EventBus(Clock* clock, Duration retention, uint64_t seed);

  // Schema registry.
  void AddSchema(const std::string& schema_id, std::string schema_json);
  std::optional<std::string> SchemaJson(const std::string& schema_id) const;

  // Topics. AddTopic fails with kAlreadyExists for a duplicate name.
  Status AddTopic(const std::string& name, const std::string& schema_id, TopicSettings settings);
  bool HasTopic(const std::string& name) const;
  std::vector<std::string> TopicNames() const;
  // Current schema id, settings. kNotFound for an unknown topic.
  Result<std::string> TopicSchemaId(const std::string& name) const;
  Result<TopicSettings> Settings(const std::string& name) const;
  Status SetTopicSchema(const std::string& name, const std::string& schema_id);

  // Every event stored on `from` is also stored on `to` (its own replay id; origin
  // "mirror"), as /data/ChangeEvents carries every object's change events with mixed
  // schemas. `to` may not itself mirror into another topic.
  Status AddMirror(const std::string& from, const std::string& to);

  // Stores one event (replay id and stored time assigned here) and ledgers it with
  // `origin`/`kind`, then stores a copy on each mirror target. Returns the replay id on
  // `topic`. kNotFound for unknown topics, kFailedPrecondition for firehose topics.
  Result<uint64_t> Append(const std::string& topic, BusEvent event, std::string origin,
                          std::string kind);

  // Calls `fn` for up to `max_events` events with replay id > `after`, stopping before the
  // byte budget `max_bytes` is exceeded (at least one event is always passed). Returns the
  // number passed. Events are passed under the topic lock: `fn` must not call the bus.
  size_t Read(const std::string& topic, uint64_t after, size_t max_events, size_t max_bytes,
              const std::function<void(const BusEvent&)>& fn);

  // Highest replay id stored on the topic (0 when none).
  uint64_t Tip(const std::string& topic);
  // The cursor for EARLIEST: every retained event has a replay id > this.
  uint64_t EarliestCursor(const std::string& topic);
  // True when delivery strictly after `replay_id` loses nothing: it is not older than
  // retention and not beyond the tip.
  bool IsValidResumePoint(const std::string& topic, uint64_t replay_id);
  // Drops events now outside the retention window on every topic.
  void PruneAll();

  // Every ledgered event ("" = all topics). A firehose topic contributes the events it has
  // served (replay ids 1..served, ids from FirehoseEventId, origin "firehose"), at most
  // kFirehoseLedgerCap of them.
  std::vector<LedgerEntry> Ledger(const std::string& topic) const;
  size_t RetainedCount(const std::string& topic);

  // Called after each Append with the topic name.
  void SetAppendListener(std::function<void(const std::string&)> listener);

  Duration retention() const { return retention_; }
  Clock* clock() const { return clock_; }

 private:
  struct Topic {
    std::string name;
    mutable std::mutex mu;
    std::string schema_id;
    TopicSettings settings;
    std::deque<BusEvent> events;
    uint64_t last_replay_id = 0;
    uint64_t pruned_through = 0;  // highest replay id ever pruned
    uint64_t firehose_served = 0;
    std::string firehose_id_prefix;  // FirehoseEventId's topic part
    std::vector<LedgerEntry> ledger;
    std::vector<std::string> mirror_to;
    std::mt19937_64 rng;
  };
  Topic* Find(const std::string& name) const;
  void PruneLocked(Topic& t);

  Clock* clock_;
  Duration retention_;
  uint64_t seed_;
  mutable std::shared_mutex mu_;  // guards topics_ (the map), schemas_
  std::map<std::string, std::unique_ptr<Topic>> topics_;
  std::map<std::string, std::string> schemas_;
  std::mutex listener_mu_;
  std::function<void(const std::string&)> listener_;
};

}  // namespace forcepipe::emulator
