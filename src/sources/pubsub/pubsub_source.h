#pragma once

// PubSubSource (kind `pubsub`): subscribes to Salesforce Pub/Sub API topics
// (CDC, platform events, Real-Time Event Monitoring) and emits one Entry per
// event into the streaming lane.
//
// Per topic, one stream thread:
//   - resumes CUSTOM strictly after the committed replay id (checkpoint key
//     `pubsub:<org id>:<topic>`, value base64 replay id), else the configured
//     preset (default EARLIEST);
//   - asks for `batch_size` events (<= 100) and tops credits up when the
//     outstanding count falls to half; when the lane is full, Emit blocks, so no
//     further FetchRequest is sent and Salesforce stops sending (backpressure);
//   - keepalive responses' latest_replay_id become checkpoint-only entries;
//   - a watchdog cancels a stream silent for longer than `watchdog` (default
//     300 s, above the 270 s keepalive); gRPC HTTP/2 keepalive pings run too;
//   - reconnects with jittered exponential backoff that resets once a stream
//     delivers, resuming from the last position handed to the lane;
//   - UNAUTHENTICATED re-mints the token (single-flight) and resubscribes
//     (repeated rejections back off in the TokenProvider);
//   - a stream failing for longer than `unhealthy_after` is reported as the
//     source's health problem, naming the topic, until it streams again;
//   - a permanent error on one topic (NOT_FOUND, PERMISSION_DENIED,
//     INVALID_ARGUMENT) stops that topic's stream only, kept as a health
//     problem naming it; the other topics keep streaming. Run fails only when
//     every topic has failed so;
//   - `replayid.corrupted` falls back to `corrupted_fallback` (default EARLIEST)
//     and emits a gap record entry naming the window that may be lost;
//   - an undecodable payload goes to the dead-letter file (topic, replay id,
//     schema id, reason, payload base64), is counted, and its position is
//     committed through a checkpoint-only entry so the stream moves on.
// Schemas are fetched once per id (single-flight) and cached.
//
// ManagedSubscribe (topics listed under `managed_subscriptions`): the server
// keeps a committed position per subscription. Our checkpoint stays the source
// of truth: at start, a stored position is first committed to the
// subscription (a short seek stream), and afterwards a position is committed
// to Salesforce only once the engine reports it durably committed
// (OnCommitted), by a committer thread writing on the live stream. After a
// reconnect the server resends what it had not been told was committed; those
// events are already in the lane and are skipped by replay id.
//
// Topics with a glob (e.g. /event/*EventStream) are expanded once at the start
// of Run() from describeGlobal.
//
// Threads: Run() starts one thread per topic (reads, decodes, emits, tops up
// credits), a watchdog, and a committer for managed subscriptions, and joins
// them. Stop() cancels the streams.

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config/registry.h"
#include "core/dead_letter.h"
#include "core/source.h"
#include "pipeline/backoff.h"
#include "salesforce/auth/token_provider.h"
#include "salesforce/rest/rest_client.h"
#include "sources/pubsub/pubsub_client.h"

namespace forcepipe::pubsub {

enum class Preset { kLatest, kEarliest };

struct PubSubSourceOptions {
  std::string name = "pubsub";
  // Topics; an entry with a glob (e.g. /event/*EventStream) is expanded at
  // start from describeGlobal: every event type (name ending in EventStream or
  // __e) whose /event/<name> matches.
  std::vector<std::string> topics;
  salesforce::RestTarget rest;  // for describeGlobal (instance URL from the token)
  // topic -> ManagedSubscribe developer name or subscription id (18 chars,
  // starting with "0"); such topics use ManagedSubscribe instead of Subscribe.
  std::map<std::string, std::string> managed;
  std::string org_name;  // optional `org` label
  ClientOptions client;
  Preset initial_preset = Preset::kEarliest;
  Preset corrupted_fallback = Preset::kEarliest;
  int batch_size = 100;  // credits per stream (<= 100)
  Duration watchdog = std::chrono::seconds(300);
  // A topic whose stream keeps failing (unreachable endpoint, auth) for this
  // long makes the source unhealthy (/readyz 503 naming the topic,
  // forcepipe_source_healthy 0) until it streams again; 0 = at once.
  Duration unhealthy_after = std::chrono::seconds(60);
  BackoffPolicy reconnect{std::chrono::seconds(1), std::chrono::seconds(60),
                          std::chrono::minutes(5)};
  std::string dead_letter_path;  // "" = data_dir/pubsub-dead-letters.jsonl set by the factory
  bool line_only = false;        // entries need only the line (tail; see EventMapper)
  uint64_t seed = 1;
};

class PubSubSource final : public Source {
 public:
  // Takes ownership of `tokens`.
  PubSubSource(PubSubSourceOptions options, std::unique_ptr<salesforce::TokenProvider> tokens);
  ~PubSubSource() override;

  std::string_view kind() const override { return "pubsub"; }
  const std::string& name() const override { return options_.name; }
  LaneKind lane() const override { return LaneKind::kStreaming; }
  Status Run(SourceContext& ctx) override;
  void Stop() override;
  std::vector<MetricSample> Metrics() const override;
  void OnCommitted(const CheckpointMap& committed) override;
  // Keys pubsub:<org id>:<topic> for a configured topic (or one matching a
  // configured pattern); values per ParseReplayPosition.
  Status CheckPosition(std::string_view key, std::string_view value) const override;

  // The longest replay id accepted from a checkpoint (Salesforce's are a few
  // bytes; the emulator's are 8).
  static constexpr size_t kMaxReplayIdBytes = 64;
  // A stored position -> replay id bytes. kInvalidArgument naming `key` when
  // the value is empty or not padded base64 of 1..kMaxReplayIdBytes bytes.
  static Result<std::string> ParseReplayPosition(std::string_view key, std::string_view value);

  struct Counters {
    std::atomic<uint64_t> events{0};
    std::atomic<uint64_t> keepalives{0};
    std::atomic<uint64_t> reconnects{0};
    std::atomic<uint64_t> gaps{0};        // corrupted replay id fallbacks
    std::atomic<uint64_t> gap_events{0};  // GAP_* change events received
    std::atomic<uint64_t> dead_letters{0};
    std::atomic<uint64_t> auth_refreshes{0};
    std::atomic<uint64_t> auth_failures{0};
    std::atomic<uint64_t> watchdog_cancels{0};
    std::atomic<int64_t> credits_outstanding{0};
    std::atomic<uint64_t> managed_commits{0};          // acknowledged by Salesforce
    std::atomic<uint64_t> managed_commit_failures{0};  // answered with an error
    std::atomic<uint64_t> managed_duplicates_skipped{0};
  };
  // REQUIRES: `topic` < the number of streams (patterns are expanded in Run).
  const Counters& counters(size_t topic) const {
    std::lock_guard<std::mutex> g(streams_mu_);
    return *counters_[topic];
  }
  // The topics subscribed to (patterns expanded once Run has resolved them).
  std::vector<std::string> topics() const;

 private:
  struct Stream;
  void RunStream(size_t index, SourceContext& ctx);
  // One subscription attempt; returns how it ended.
  template <bool kManaged>
  Status SubscribeOnce(Stream& s, SourceContext& ctx, const salesforce::AccessToken& token,
                       bool* delivered);
  // Commits `replay_b64` to the managed subscription on a short stream of its
  // own, before the real one opens (the server reads its position at start).
  Status SeekManaged(Stream& s, const salesforce::AccessToken& token,
                     const std::string& replay_b64);
  void CommitterLoop();
  void WatchdogLoop(SourceContext& ctx);
  // Expands `patterns_` via describeGlobal (retrying while transient).
  Status ResolvePatterns(SourceContext& ctx);
  void AddStreamLocked(const std::string& topic);  // REQUIRES: streams_mu_ or constructor
  // Sets (or clears, with "") `s`'s problem and reports every topic's problem
  // (plus `discovery_problem_`) as the source's health.
  void SetTopicHealth(Stream& s, SourceContext& ctx, std::string problem);
  // `s` stopped for good with `st`; the source fails once every stream has.
  void StreamFailed(Stream& s, const Status& st);
  // Records an undecodable event durably (redacted); an error means it is not
  // recorded and the stream must not move past it.
  Status DeadLetter(const std::string& topic, const std::string& replay_b64,
                    const std::string& schema_id, const std::string& reason,
                    const std::string& payload);

  PubSubSourceOptions options_;
  std::unique_ptr<salesforce::TokenProvider> tokens_;
  std::unique_ptr<PubSubClient> client_;
  std::vector<std::string> patterns_;
  // Guards growth of counters_/streams_ (only in the constructor and while Run
  // resolves patterns, before any stream thread starts). Order: before
  // commit_mu_ and any Stream::mu.
  mutable std::mutex streams_mu_;
  std::vector<std::unique_ptr<Counters>> counters_;
  std::vector<std::unique_ptr<Stream>> streams_;
  std::atomic<bool> stopping_{false};
  std::mutex commit_mu_;
  std::condition_variable commit_cv_;
  std::mutex dl_mu_;
  Status fatal_;                                          // GUARDED_BY(dl_mu_)
  size_t failed_streams_ = 0;                             // GUARDED_BY(dl_mu_)
  Status first_failure_;                                  // GUARDED_BY(dl_mu_)
  std::unique_ptr<DeadLetterWriter> dead_letter_writer_;  // created under dl_mu_
  std::mutex health_mu_;         // guards every Stream::problem; after streams_mu_
  std::string reported_health_;  // GUARDED_BY(health_mu_)
};

// True when `topic` holds a glob character (*, ? or [).
bool IsTopicPattern(std::string_view topic);
// The topics "/event/<name>" matching `pattern` (fnmatch) among `sobject_names`
// that are event types (ending in EventStream or __e), sorted, unique.
std::vector<std::string> MatchTopicPattern(const std::string& pattern,
                                           const std::vector<std::string>& sobject_names);

// Validates and converts a `sources.<name>` section of kind pubsub.
Result<PubSubSourceOptions> OptionsFromNode(const config::Node& node, const FactoryContext& ctx);

SourceFactory PubSubSourceFactory();

}  // namespace forcepipe::pubsub
