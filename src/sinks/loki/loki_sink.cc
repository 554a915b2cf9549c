#include "sinks/loki/loki_sink.h"

#include <algorithm>

#include "core/log.h"

namespace forcepipe {
namespace {

constexpr std::string_view kPushPath = "/loki/api/v1/push";
constexpr std::string_view kGrpcTooLarge = "grpc: received message larger than max";
constexpr size_t kMaxReason = 512;

const std::shared_ptr<spdlog::logger>& Log() {
  static const std::shared_ptr<spdlog::logger> logger = log::Get("sink.loki");
  return logger;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// http://user:pass@host/x -> http://***@host/x
std::string RedactUrl(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  size_t start = scheme + 3;
  size_t end = url.find_first_of("/?#", start);
  size_t at = url.rfind('@', end == std::string::npos ? url.size() : end);
  if (at == std::string::npos || at < start) return url;
  return url.substr(0, start) + "***" + url.substr(at);
}

// The start of an error body, redacted before it is cut (a secret at the cut
// would otherwise leave a prefix behind): servers echo request headers.
std::string Reason(const loki::HttpResponse& r) {
  std::string s = log::Redact(std::string_view(r.body).substr(0, 64 * 1024)).substr(0, kMaxReason);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  if (s.empty()) s = "HTTP " + std::to_string(r.status);
  return s;
}

}  // namespace

struct LokiSink::PushContext {
  PushContext(const LokiSinkOptions& o) : encoder(o.encoder), http(o.http) {}
  loki::BatchPlan plan;
  loki::Encoder encoder;
  loki::HttpClient http;
  std::vector<std::pair<std::string, std::vector<uint32_t>>> groups;  // tenant -> indexes
};

Result<std::unique_ptr<LokiSink>> LokiSink::Create(LokiSinkOptions options, const Clock* clock) {
  const std::string& url = options.url;
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    return Status::InvalidArgument("loki url must start with http:// or https://, got \"" +
                                   RedactUrl(url) + "\"");
  }
  std::string push_url = url;
  if (!EndsWith(push_url, kPushPath)) {
    while (!push_url.empty() && push_url.back() == '/') push_url.pop_back();
    push_url += kPushPath;
  }
  if (options.encoder.max_line_bytes < 64) {
    return Status::InvalidArgument("max_line_bytes must be at least 64");
  }
  if (!options.http.password.empty() && options.http.username.empty()) {
    return Status::InvalidArgument("password is set but username is not");
  }
  if (!options.http.username.empty() && !options.http.bearer_token.empty()) {
    return Status::InvalidArgument("set either username/password or bearer_token, not both");
  }
  for (const auto& [name, value] : options.http.headers) {
    bool bad_name = name.empty() || name.find_first_of(": \t\r\n") != std::string::npos;
    if (bad_name || value.find_first_of("\r\n") != std::string::npos) {
      return Status::InvalidArgument("headers: invalid header \"" + name + "\"");
    }
  }
  if (options.max_in_flight < 1) options.max_in_flight = 1;
  // Redacted from every log line, whoever prints them.
  log::RegisterSecret(options.http.password);
  // Sent combined, base64-encoded: `user:password` is what a server echoes.
  if (!options.http.password.empty()) {
    log::RegisterSecret(options.http.username + ":" + options.http.password);
  }
  log::RegisterSecret(options.http.bearer_token);
  for (const auto& [name, value] : options.http.headers) log::RegisterSecret(value);
  FP_ASSIGN_OR_RETURN(
      loki::LabelPolicy policy,
      loki::LabelPolicy::Create(options.static_labels, options.tenant, options.tenants));
  return std::unique_ptr<LokiSink>(
      new LokiSink(std::move(options), std::move(policy), std::move(push_url), clock));
}

LokiSink::LokiSink(LokiSinkOptions options, loki::LabelPolicy policy, std::string push_url,
                   const Clock* clock)
    : options_(std::move(options)),
      policy_(std::move(policy)),
      push_url_(std::move(push_url)),
      log_url_(RedactUrl(push_url_)),
      clock_(clock) {}

LokiSink::~LokiSink() = default;

std::unique_ptr<LokiSink::PushContext> LokiSink::Acquire() {
  {
    std::lock_guard<std::mutex> l(pool_mu_);
    if (!pool_.empty()) {
      auto ctx = std::move(pool_.back());
      pool_.pop_back();
      return ctx;
    }
  }
  return std::make_unique<PushContext>(options_);
}

void LokiSink::Release(std::unique_ptr<PushContext> ctx) {
  std::lock_guard<std::mutex> l(pool_mu_);
  pool_.push_back(std::move(ctx));
}

void LokiSink::TrackStreams(const loki::BatchPlan& plan) {
  std::lock_guard<std::mutex> l(streams_mu_);
  SteadyTime now = clock_->SteadyNow();
  for (size_t i = 0; i < plan.stream_count(); ++i) {
    auto it = streams_.find(plan.stream(i).labels);
    if (it == streams_.end()) {
      streams_.emplace(plan.stream(i).labels, now);
    } else {
      it->second = now;
    }
  }
  if (now - last_sweep_ >= std::chrono::minutes(1)) {
    last_sweep_ = now;
    std::erase_if(streams_, [&](const auto& kv) { return now - kv.second > options_.stream_idle; });
  }
  if (streams_.size() > options_.max_streams_warn) {
    if (!warned_ || now - last_warn_ >= std::chrono::minutes(1)) {
      warned_ = true;
      last_warn_ = now;
      Log()->warn(
          "loki: {} active streams exceed max_streams_warn={}: a label value is "
          "high-cardinality; move it to structured metadata",
          streams_.size(), options_.max_streams_warn);
    }
  } else {
    warned_ = false;
  }
}

size_t LokiSink::active_streams() const {
  std::lock_guard<std::mutex> l(streams_mu_);
  SteadyTime now = clock_->SteadyNow();
  return size_t(std::count_if(streams_.begin(), streams_.end(), [&](const auto& kv) {
    return now - kv.second <= options_.stream_idle;
  }));
}

LokiSinkStats LokiSink::stats() const {
  LokiSinkStats s;
  s.requests = counters_.requests.load();
  s.entries_accepted = counters_.entries_accepted.load();
  s.entries_rejected = counters_.entries_rejected.load();
  s.lines_truncated = counters_.lines_truncated.load();
  s.splits = counters_.splits.load();
  s.retryable = counters_.retryable.load();
  s.auth_failures = counters_.auth_failures.load();
  return s;
}

PushOutcome LokiSink::Push(const Batch& batch) {
  if (batch.entries.empty()) return PushOutcome::Ok();
  std::unique_ptr<PushContext> ctx = Acquire();
  ctx->plan.Build(batch, policy_, options_.encoder.max_line_bytes);
  counters_.lines_truncated += ctx->plan.truncated_lines();
  TrackStreams(ctx->plan);

  // One request per tenant; groups keep their vectors' capacity across pushes.
  size_t used = 0;
  for (auto& g : ctx->groups) g.second.clear();
  for (uint32_t i = 0; i < batch.entries.size(); ++i) {
    const std::string& tenant = ctx->plan.stream(ctx->plan.stream_of(i)).tenant;
    size_t g = 0;
    while (g < used && ctx->groups[g].first != tenant) ++g;
    if (g == used) {
      if (used == ctx->groups.size()) ctx->groups.emplace_back();
      ctx->groups[g].first = tenant;
      ++used;
    }
    ctx->groups[g].second.push_back(i);
  }

  std::vector<Rejection> rejected;
  PushOutcome result = PushOutcome::Ok();
  for (size_t g = 0; g < used; ++g) {
    PushOutcome o = Send(*ctx, batch, ctx->groups[g].second, ctx->groups[g].first, &rejected);
    if (o.kind == PushOutcome::Kind::kRetryable) {
      result = std::move(o);
      break;
    }
  }
  Release(std::move(ctx));
  if (result.kind == PushOutcome::Kind::kRetryable) {
    ++counters_.retryable;
    return result;
  }
  if (rejected.empty()) return PushOutcome::Ok();
  std::sort(rejected.begin(), rejected.end(),
            [](const Rejection& a, const Rejection& b) { return a.index < b.index; });
  counters_.entries_rejected += rejected.size();
  constexpr size_t kLogged = 5;  // the engine counts every drop; the log shows a sample
  for (size_t i = 0; i < rejected.size() && i < kLogged; ++i) {
    Log()->warn("loki: entry {} of batch {} rejected permanently: {}", rejected[i].index,
                batch.sequence, rejected[i].reason);
  }
  if (rejected.size() > kLogged) {
    Log()->warn("loki: ... and {} more entries of batch {} rejected", rejected.size() - kLogged,
                batch.sequence);
  }
  return PushOutcome::Permanent(std::move(rejected));
}

PushOutcome LokiSink::Send(PushContext& ctx, const Batch& batch, std::span<const uint32_t> indexes,
                           const std::string& tenant, std::vector<Rejection>* rejected) {
  auto split = [&]() -> PushOutcome {
    ++counters_.splits;
    size_t half = indexes.size() / 2;
    PushOutcome left = Send(ctx, batch, indexes.first(half), tenant, rejected);
    if (left.kind == PushOutcome::Kind::kRetryable) return left;
    return Send(ctx, batch, indexes.subspan(half), tenant, rejected);
  };

  loki::Encoder::Body body = ctx.encoder.Encode(batch, ctx.plan, indexes);
  if (body.uncompressed_size > options_.max_request_bytes && indexes.size() > 1) return split();

  ++counters_.requests;
  loki::HttpResponse r =
      ctx.http.Post(push_url_, body.data, body.content_type, body.content_encoding, tenant);
  auto retry_after = [&]() {
    auto d = loki::ParseRetryAfter(r.retry_after, clock_->NowUnixNanos() / 1'000'000'000,
                                   options_.max_retry_after);
    return d.value_or(Duration{0});
  };

  if (r.status >= 200 && r.status < 300) {
    counters_.entries_accepted += indexes.size();
    return PushOutcome::Ok();
  }
  if (r.status == 0) {
    return PushOutcome::Retryable("loki: " + log_url_ + ": " + r.error);
  }
  bool too_large =
      r.status == 413 || (r.status == 500 && r.body.find(kGrpcTooLarge) != std::string::npos);
  if (r.status == 400 || too_large) {
    if (indexes.size() == 1) {
      rejected->push_back({indexes[0], "loki HTTP " + std::to_string(r.status) + ": " + Reason(r)});
      return PushOutcome::Ok();
    }
    return split();
  }
  if (r.status == 429) {
    return PushOutcome::Retryable("loki: rate limited (429): " + Reason(r), retry_after());
  }
  if (r.status == 401 || r.status == 403) {
    ++counters_.auth_failures;
    Log()->error(
        "loki: {} answered {} — authentication/authorization failed; check username/password/"
        "bearer_token and tenant. Nothing is dropped; retrying.",
        log_url_, r.status);
    return PushOutcome::Retryable("loki: auth failed (HTTP " + std::to_string(r.status) + ")",
                                  retry_after());
  }
  if (r.status == 404) {
    Log()->error(
        "loki: {} answered 404 — the url is wrong (expected a Loki base URL); fix the config. "
        "Nothing is dropped; retrying.",
        log_url_);
    return PushOutcome::Retryable("loki: 404 not found: check url", retry_after());
  }
  if (r.status >= 500) {
    return PushOutcome::Retryable(
        "loki: server error (HTTP " + std::to_string(r.status) + "): " + Reason(r), retry_after());
  }
  Log()->error("loki: {} answered unexpected HTTP {}: {}; retrying", log_url_, r.status, Reason(r));
  return PushOutcome::Retryable("loki: unexpected HTTP " + std::to_string(r.status), retry_after());
}

std::vector<MetricSample> LokiSink::Metrics() const {
  LokiSinkStats st = stats();
  auto c = [](const char* n, const char* h, uint64_t v) {
    return MetricSample{n, h, true, {}, static_cast<double>(v)};
  };
  return {
      c("loki_requests_total", "HTTP push requests sent, split parts included.", st.requests),
      c("loki_entries_accepted_total", "Entries in requests Loki answered 2xx.",
        st.entries_accepted),
      c("loki_entries_rejected_total", "Entries Loki could never accept (dropped, dead-lettered).",
        st.entries_rejected),
      c("loki_lines_truncated_total", "Lines capped at max_line_bytes.", st.lines_truncated),
      c("loki_splits_total", "Requests split in halves to isolate rejected entries.", st.splits),
      c("loki_retryable_pushes_total", "Pushes answered 429, 5xx or failed in transport.",
        st.retryable),
      c("loki_auth_failures_total", "401/403 answers.", st.auth_failures),
      MetricSample{"loki_active_streams",
                   "Streams seen recently (the cardinality guard's count).",
                   false,
                   {},
                   static_cast<double>(active_streams())},
  };
}

}  // namespace forcepipe
