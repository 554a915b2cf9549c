#pragma once

// Event generation: realistic, deterministic (from a seed) Salesforce events encoded with
// the topic's current schema.
//
// EventFactory builds one topic's events: CDC (CREATE/UPDATE/DELETE/UNDELETE with correct
// changedFields/nulledFields/diffFields bitmaps, multi-record events, transactions with
// transactionKey/sequenceNumber/commitNumber; GAP_* and GAP_OVERFLOW on demand), login
// events (LoginEventStream) and platform events. Values are chosen from each field's Avro
// type, name and `doc` (Role:Type), so any real-shaped schema works, including new
// versions made by the admin API.
//
// Generator paces factories on a thread at `rate` events/s in total (0 = as fast as
// possible, up to max_events), and can emit synchronously on demand (admin API, tests).
//
// Thread safety: EventFactory is not thread-safe; Generator is safe for concurrent use.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "avro/value.h"
#include "core/clock.h"
#include "core/status.h"
#include "emulator/event_bus.h"
#include "emulator/schemas.h"

namespace forcepipe::emulator {

enum class EventKind { kNone, kCdc, kLogin, kPlatform };
std::optional<EventKind> EventKindFromName(std::string_view name);  // none|cdc|login|platform
std::string_view EventKindName(EventKind kind);

// CDC bitmap element for top-level fields: "0x" + big-endian upper-case hex (whole bytes),
// bit i = top-level field i. "" when `bits` is empty.
std::string FieldBitmap(const std::vector<size_t>& bits);

// The 3-character case-safe suffix of a 15-character Salesforce id.
std::string SalesforceIdSuffix(std::string_view id15);
// 18-character Salesforce id: `prefix` (3 chars) + 12 chars from `n` + checksum suffix.
std::string SalesforceId(std::string_view prefix, uint64_t n);

struct GeneratedEvent {
  BusEvent event;    // replay id / stored time unset
  std::string kind;  // "CREATE", "UPDATE", "GAP_OVERFLOW", "login", "platform", ...
};

class EventFactory {
 public:
  EventFactory(std::string topic, EventKind kind, uint64_t seed, Clock* clock);

  // The next event for this topic, encoded with `schema`.
  Result<GeneratedEvent> Next(const LoadedSchema& schema);
  // A GAP_* / GAP_OVERFLOW change event (record ids, no field values). REQUIRES: CDC topic.
  Result<GeneratedEvent> Gap(const LoadedSchema& schema, const std::string& change_type,
                             int records);

  EventKind kind() const { return kind_; }

 private:
  struct Record {
    std::string id;
    bool deleted = false;
  };
  Result<GeneratedEvent> NextCdc(const LoadedSchema& schema);
  Result<GeneratedEvent> NextFlat(const LoadedSchema& schema);
  avro::Value Fill(const avro::Schema& type, const std::string& name, const std::string& doc,
                   int depth);
  avro::Value FillRecord(const avro::Schema& record, double probability, int depth);
  avro::Value Header(const avro::Schema& header_schema, const std::string& change_type,
                     const std::vector<std::string>& record_ids,
                     const std::vector<std::string>& changed,
                     const std::vector<std::string>& nulled, const std::vector<std::string>& diff);
  std::string NewRecordId();
  std::string EntityName(const avro::Schema& schema) const;
  void NextTransaction();

  std::string topic_;
  EventKind kind_;
  Clock* clock_;
  std::mt19937_64 rng_;
  uint64_t id_counter_ = 0;
  std::vector<Record> records_;
  std::vector<size_t> live_, dead_;  // indices into records_, by `deleted`
  // Field roles of the CDC schema last seen (recomputed when the schema changes).
  struct CdcShape {
    const avro::Schema* schema = nullptr;
    std::vector<char> always_on_create;     // per field: set on every CREATE
    std::vector<size_t> update_candidates;  // non-system fields an UPDATE may change
    size_t last_modified_date = 0;          // 0 = absent (field 0 is the header)
    size_t last_modified_by = 0;
  };
  CdcShape shape_;
  std::string key_prefix_;
  std::string entity_;
  // Transaction state.
  std::string tx_key_;
  int tx_seq_ = 0;
  int tx_remaining_ = 0;
  int64_t commit_number_ = 11'590'000'000'000'000;  // > 2^53 on purpose
  int64_t commit_ts_ = 0;
  std::string commit_user_;
};

struct GeneratorTopic {
  std::string topic;
  EventKind kind = EventKind::kNone;
  double weight = 1;  // share of the total rate
};

class Generator {
 public:
  // `bus`, `schemas`, `clock` must outlive the generator.
  Generator(EventBus* bus, SchemaRegistry* schemas, Clock* clock, uint64_t seed);
  ~Generator();

  Status AddTopic(GeneratorTopic t);

  // Background generation at `rate` events/s over all topics by weight (0 = as fast as
  // possible). Stops after `max_events` total when non-zero.
  void Start(double rate, uint64_t max_events = 0);
  void Stop();
  void Pause();
  void Resume();
  bool paused() const { return paused_.load(); }
  void SetRate(double rate);
  double rate() const;
  uint64_t emitted() const { return emitted_.load(); }

  // Emits `n` events on `topic` now; returns their replay ids.
  Result<std::vector<uint64_t>> Emit(const std::string& topic, int n);
  // Emits a GAP_* / GAP_OVERFLOW event (`records` record ids; ignored for GAP_OVERFLOW).
  Result<uint64_t> EmitGap(const std::string& topic, const std::string& change_type, int records);
  // Emits a payload that no Avro decoder accepts, carrying the topic's schema id.
  Result<uint64_t> EmitUndecodable(const std::string& topic);

 private:
  struct TopicState {
    GeneratorTopic cfg;
    std::unique_ptr<EventFactory> factory;
    double credit = 0;
  };
  Result<uint64_t> EmitOneLocked(TopicState& t);
  void Loop();

  EventBus* bus_;
  SchemaRegistry* schemas_;
  Clock* clock_;
  uint64_t seed_;

  mutable std::mutex mu_;  // guards topics_ and the factories
  std::vector<std::unique_ptr<TopicState>> topics_;

  std::mutex run_mu_;
  std::condition_variable run_cv_;
  bool stop_ = false;
  double rate_ = 10;
  uint64_t max_events_ = 0;
  std::atomic<bool> paused_{false};
  std::atomic<uint64_t> emitted_{0};
  std::thread thread_;
};

}  // namespace forcepipe::emulator
