#pragma once

// LokiSink: pushes batches to Grafana Loki's /loki/api/v1/push.
//
//  - Encoding: protobuf + snappy (block) by default; JSON (+ gzip) for
//    debugging. See loki_encoder.h.
//  - Labels: the fixed allowlist plus validated static labels; everything else
//    goes to structured metadata. See loki_labels.h.
//  - Tenants: `tenants` maps an entry's sf_org_id (else org) label value to a
//    tenant; a batch spanning tenants is sent as one request per tenant.
//  - Outcomes: 2xx -> Ok. 429 / 5xx / transport errors -> Retryable (a
//    Retry-After, seconds or HTTP-date, is honoured up to max_retry_after).
//    400, 413 and 500 "grpc: received message larger than max" -> the request
//    is split in halves recursively; the entries Loki accepted are delivered and
//    the single entries it still refuses are returned as Permanent with Loki's
//    reason. 401/403 (auth) and 404 (wrong URL) -> Retryable with an error
//    log: never drop on a configuration problem.
//  - A cardinality guard counts streams active within `stream_idle` and warns
//    when there are more than `max_streams_warn`.
//
// Thread safety: Push may run concurrently from up to max_in_flight() threads;
// each concurrent push uses its own encoder and connection from a pool.

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/registry.h"
#include "core/clock.h"
#include "core/sink.h"
#include "core/status.h"
#include "sinks/loki/loki_encoder.h"
#include "sinks/loki/loki_http.h"
#include "sinks/loki/loki_labels.h"

namespace forcepipe {

struct LokiSinkOptions {
  // Base URL (http[s]://host:port[/prefix]); /loki/api/v1/push is appended
  // unless the URL already ends with it.
  std::string url;
  std::string tenant;                          // default tenant; "" = no header
  std::map<std::string, std::string> tenants;  // org (sf_org_id/org value) -> tenant
  std::map<std::string, std::string> static_labels;
  loki::EncoderOptions encoder;
  loki::HttpOptions http;
  size_t max_streams_warn = 1000;
  Duration stream_idle = std::chrono::hours(1);
  // A request whose uncompressed body exceeds this is split before sending
  // (Loki's internal gRPC limit is 4 MiB).
  size_t max_request_bytes = 3 * 1024 * 1024;
  Duration max_retry_after = std::chrono::minutes(5);
  int max_in_flight = 8;
  // First wait after a 429 (doubles up to 30 s), through the injected clock.
  Duration rate_limit_backoff = std::chrono::seconds(1);
  // Probe /ready, /loki/api/v1/status/buildinfo and /config at Start.
  bool probe_server = true;
};

// Counters, for metrics and tests.
struct LokiSinkStats {
  uint64_t requests = 0;          // HTTP requests sent (including split parts)
  uint64_t entries_accepted = 0;  // entries in requests answered 2xx
  uint64_t entries_rejected = 0;  // entries returned as Permanent
  uint64_t lines_truncated = 0;   // lines capped to max_line_bytes
  uint64_t splits = 0;            // requests split in halves
  uint64_t retryable = 0;         // pushes that returned Retryable
  uint64_t auth_failures = 0;     // 401/403 responses
  uint64_t rate_limited = 0;      // 429 responses
  std::map<std::string, uint64_t> rate_limited_by_tenant;
};

class LokiSink : public Sink {
 public:
  // Validates options (URL, labels, tenants, auth). `clock` must outlive the sink.
  static Result<std::unique_ptr<LokiSink>> Create(LokiSinkOptions options,
                                                  const Clock* clock = Clock::Real());
  ~LokiSink() override;

  std::string_view kind() const override { return "loki"; }
  // Probes the server (when probe_server): /ready, logs the version from
  // /loki/api/v1/status/buildinfo, and reads limits_config from /config
  // (max_line_size, ingestion_burst_size_mb, allow_structured_metadata).
  // Never fails: an unreachable server only leaves the configured limits.
  Status Start() override;
  PushOutcome Push(const Batch& batch) override;
  int max_in_flight() const override { return options_.max_in_flight; }

  LokiSinkStats stats() const;
  std::vector<MetricSample> Metrics() const override;
  // Streams seen within stream_idle (the cardinality guard's count).
  size_t active_streams() const;
  const std::string& push_url() const { return push_url_; }

 private:
  struct PushContext;
  struct Outcome;

  LokiSink(LokiSinkOptions options, loki::LabelPolicy policy, std::string push_url,
           const Clock* clock);
  std::unique_ptr<PushContext> Acquire();
  void Release(std::unique_ptr<PushContext> ctx);
  void TrackStreams(const loki::BatchPlan& plan);
  // Sends entries `indexes` of `batch` for one tenant, splitting on 400/413/
  // oversize. Appends entries that can never be accepted to `rejected`.
  PushOutcome Send(PushContext& ctx, const Batch& batch, std::span<const uint32_t> indexes,
                   const std::string& tenant, std::vector<Rejection>* rejected);

  // A 400: Loki stored what it did not name. Rejects exactly the named
  // entries, re-sends only refused-for-metadata streams in line mode, or (when
  // the message names nothing known) rejects all as "possibly refused".
  PushOutcome HandleBadRequest(PushContext& ctx, const Batch& batch,
                               std::span<const uint32_t> indexes, const std::string& tenant,
                               const loki::HttpResponse& r, std::vector<Rejection>* rejected,
                               int depth = 0);
  bool MetadataInLine(const std::string& tenant) const;
  size_t TenantMaxBytes(const std::string& tenant) const;

  LokiSinkOptions options_;
  loki::LabelPolicy policy_;
  mutable std::mutex limits_mu_;
  size_t server_max_line_ = 0;                      // 0 = unknown
  std::map<std::string, size_t> tenant_max_bytes_;  // learned from 429s
  std::map<std::string, bool> metadata_in_line_;    // tenants refusing metadata
  bool server_disallows_metadata_ = false;
  std::map<std::string, uint64_t> rate_limited_;  // 429s by tenant
  std::string push_url_;
  std::string log_url_;  // push_url_ without credentials
  const Clock* clock_;

  std::mutex pool_mu_;
  std::vector<std::unique_ptr<PushContext>> pool_;

  mutable std::mutex streams_mu_;
  std::unordered_map<std::string, SteadyTime> streams_;
  SteadyTime last_sweep_{};
  SteadyTime last_warn_{};
  bool warned_ = false;

  struct Counters {
    std::atomic<uint64_t> requests{0}, entries_accepted{0}, entries_rejected{0}, lines_truncated{0},
        splits{0}, retryable{0}, auth_failures{0}, rate_limited{0};
  } counters_;
};

// The "loki" sink kind for the registry.
SinkFactory LokiSinkFactory();

}  // namespace forcepipe
