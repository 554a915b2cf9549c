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

// A label set with spaces outside quoted values removed and its pairs sorted,
// so the sink's `{a="b", c="d"}` and the server's echo of it compare equal.
std::string NormalizeLabels(std::string_view s) {
  std::vector<std::string> pairs(1);
  bool quoted = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quoted) {
      pairs.back().push_back(c);
      if (c == '\\' && i + 1 < s.size()) {
        pairs.back().push_back(s[++i]);
      } else if (c == '"') {
        quoted = false;
      }
      continue;
    }
    if (c == '"') {
      quoted = true;
      pairs.back().push_back(c);
    } else if (c == ',') {
      pairs.emplace_back();
    } else if (c != ' ' && c != '\t' && c != '{' && c != '}') {
      pairs.back().push_back(c);
    }
  }
  std::erase_if(pairs, [](const std::string& p) { return p.empty(); });
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& p : pairs) out += p + ",";
  return out;
}

// Every `<before>STREAM' ...` occurrence: the quoted stream of each.
struct Named {
  std::string stream;   // normalized
  int64_t length = -1;  // entry length when the message names one
};

// "Max entry size 'M' bytes exceeded for stream 'S' while adding an entry
// with length 'N' bytes" (Loki 3.x), once per refused entry.
std::vector<Named> FindOversized(std::string_view body) {
  std::vector<Named> out;
  constexpr std::string_view kStream = "' bytes exceeded for stream '";
  constexpr std::string_view kLen = "' while adding an entry with length '";
  for (size_t at = body.find(kStream); at != std::string_view::npos;
       at = body.find(kStream, at + 1)) {
    size_t s = at + kStream.size();
    size_t e = body.find(kLen, s);
    if (e == std::string_view::npos) break;
    size_t n = e + kLen.size();
    size_t q = body.find('\'', n);
    if (q == std::string_view::npos) break;
    Named nm;
    nm.stream = NormalizeLabels(body.substr(s, e - s));
    nm.length = std::strtoll(std::string(body.substr(n, q - n)).c_str(), nullptr, 10);
    out.push_back(std::move(nm));
  }
  return out;
}

// "stream 'S' includes structured metadata, but this feature is disallowed"
std::vector<std::string> FindMetadataRefused(std::string_view body) {
  std::vector<std::string> out;
  constexpr std::string_view kHead = "stream '";
  constexpr std::string_view kTail =
      "' includes structured metadata, but this feature is disallowed";
  for (size_t at = body.find(kTail); at != std::string_view::npos; at = body.find(kTail, at + 1)) {
    size_t h = body.rfind(kHead, at);
    if (h == std::string_view::npos) continue;
    out.push_back(NormalizeLabels(body.substr(h + kHead.size(), at - h - kHead.size())));
  }
  return out;
}

// "256KB", "512", "1MiB" -> bytes (KB = 1000, KiB = 1024: the smaller reading
// of an ambiguous unit is the safe one for a limit). 0 when unparsable.
size_t ParseByteSize(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '"')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '"' || v.back() == '\r')) v.remove_suffix(1);
  size_t i = 0;
  while (i < v.size() && (std::isdigit(static_cast<unsigned char>(v[i])) || v[i] == '.')) ++i;
  if (i == 0) return 0;
  double n = std::strtod(std::string(v.substr(0, i)).c_str(), nullptr);
  std::string unit(v.substr(i));
  for (char& c : unit) c = char(std::tolower(static_cast<unsigned char>(c)));
  double m = 1;
  if (unit == "kb")
    m = 1e3;
  else if (unit == "kib")
    m = 1024;
  else if (unit == "mb")
    m = 1e6;
  else if (unit == "mib")
    m = 1024.0 * 1024;
  else if (unit == "gb")
    m = 1e9;
  else if (unit == "gib")
    m = 1024.0 * 1024 * 1024;
  else if (!unit.empty() && unit != "b")
    return 0;
  return size_t(n * m);
}

// The value of `key:` in the limits_config section of Loki's /config YAML.
std::string YamlLimit(std::string_view yaml, std::string_view key) {
  size_t sec = yaml.find("limits_config:");
  if (sec == std::string_view::npos) return "";
  std::string needle = "\n  " + std::string(key) + ":";
  size_t at = yaml.find(needle, sec);
  if (at == std::string_view::npos) return "";
  size_t v = at + needle.size();
  size_t end = yaml.find('\n', v);
  std::string_view out = yaml.substr(v, end == std::string_view::npos ? end : end - v);
  while (!out.empty() && out.front() == ' ') out.remove_prefix(1);
  return std::string(out);
}

}  // namespace

struct LokiSink::PushContext {
  PushContext(const LokiSinkOptions& o) : encoder(o.encoder), http(o.http) {}
  loki::BatchPlan plan;
  loki::Encoder encoder;
  loki::HttpClient http;
  std::vector<std::pair<std::string, std::vector<uint32_t>>> groups;  // tenant -> indexes
  size_t delivered = 0;   // entries stored by this push so far
  int backoff_level = 0;  // 429 waits in this push so far
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

Status LokiSink::Start() {
  if (!options_.probe_server) return Status::Ok();
  std::string base = push_url_.substr(0, push_url_.size() - kPushPath.size());
  loki::HttpClient http(options_.http);
  loki::HttpResponse ready = http.Get(base + "/ready", options_.tenant);
  if (ready.status != 200) {
    Log()->warn("loki: {}/ready answered {}: server not ready yet; pushes will retry",
                RedactUrl(base), ready.status == 0 ? ready.error : std::to_string(ready.status));
    return Status::Ok();
  }
  loki::HttpResponse info = http.Get(base + "/loki/api/v1/status/buildinfo", options_.tenant);
  std::string version = "unknown";
  if (info.status == 200) {
    size_t at = info.body.find("\"version\"");
    size_t q1 = at == std::string::npos ? at : info.body.find('"', at + 9);
    size_t q2 = q1 == std::string::npos ? q1 : info.body.find('"', q1 + 1);
    if (q2 != std::string::npos) version = info.body.substr(q1 + 1, q2 - q1 - 1);
  }
  loki::HttpResponse config = http.Get(base + "/config", options_.tenant);
  size_t max_line = 0, burst = 0;
  bool disallow = false;
  if (config.status == 200) {
    max_line = ParseByteSize(YamlLimit(config.body, "max_line_size"));
    std::string b = YamlLimit(config.body, "ingestion_burst_size_mb");
    if (!b.empty()) burst = size_t(std::strtod(b.c_str(), nullptr) * 1024 * 1024);
    disallow = YamlLimit(config.body, "allow_structured_metadata") == "false";
  }
  {
    std::lock_guard<std::mutex> l(limits_mu_);
    if (max_line >= 64) server_max_line_ = max_line;
    if (burst > 0) tenant_max_bytes_[""] = burst;
    server_disallows_metadata_ = disallow;
  }
  Log()->info(
      "loki: server {} is ready, version {}; limits: max_line_size={} ingestion_burst={} "
      "structured_metadata={}",
      RedactUrl(base), version, max_line, burst, disallow ? "disallowed" : "allowed");
  return Status::Ok();
}

bool LokiSink::MetadataInLine(const std::string& tenant) const {
  std::lock_guard<std::mutex> l(limits_mu_);
  if (server_disallows_metadata_) return true;
  auto it = metadata_in_line_.find(tenant);
  return it != metadata_in_line_.end() && it->second;
}

size_t LokiSink::TenantMaxBytes(const std::string& tenant) const {
  std::lock_guard<std::mutex> l(limits_mu_);
  size_t m = options_.max_request_bytes;
  auto it = tenant_max_bytes_.find(tenant);
  if (it != tenant_max_bytes_.end()) m = std::min(m, it->second);
  it = tenant_max_bytes_.find("");
  if (it != tenant_max_bytes_.end()) m = std::min(m, it->second);
  return m;
}

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
  s.rate_limited = counters_.rate_limited.load();
  std::lock_guard<std::mutex> l(limits_mu_);
  s.rate_limited_by_tenant = rate_limited_;
  return s;
}

PushOutcome LokiSink::Push(const Batch& batch) {
  if (batch.entries.empty()) return PushOutcome::Ok();
  std::unique_ptr<PushContext> ctx = Acquire();
  ctx->delivered = 0;
  ctx->backoff_level = 0;
  size_t max_line = options_.encoder.max_line_bytes;
  {
    std::lock_guard<std::mutex> l(limits_mu_);
    if (server_max_line_ > 0) max_line = std::min(max_line, server_max_line_);
  }
  // Lines over the server's max_line_size are cut before the push (Loki would
  // refuse them), so an oversized entry never reaches Loki.
  ctx->plan.Build(batch, policy_, max_line);
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
    ctx->encoder.SetLineOptions(max_line, MetadataInLine(ctx->groups[g].first));
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
  if (body.uncompressed_size > TenantMaxBytes(tenant) && indexes.size() > 1) return split();

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
    ctx.delivered += indexes.size();
    return PushOutcome::Ok();
  }
  if (r.status == 0) {
    return PushOutcome::Retryable("loki: " + log_url_ + ": " + r.error);
  }
  bool too_large =
      r.status == 413 || (r.status == 500 && r.body.find(kGrpcTooLarge) != std::string::npos);
  if (r.status == 400) return HandleBadRequest(ctx, batch, indexes, tenant, r, rejected);
  if (too_large) {
    if (indexes.size() == 1) {
      rejected->push_back({indexes[0], "loki HTTP " + std::to_string(r.status) + ": " + Reason(r)});
      return PushOutcome::Ok();
    }
    return split();
  }
  if (r.status == 429) {
    ++counters_.rate_limited;
    bool shrunk = false;
    {
      std::lock_guard<std::mutex> l(limits_mu_);
      ++rate_limited_[tenant];
      // A request over the tenant's burst is refused every time: shrink the
      // tenant's request size below this one and split.
      if (indexes.size() > 1) {
        size_t& m = tenant_max_bytes_.try_emplace(tenant, SIZE_MAX).first->second;
        if (body.uncompressed_size <= m) {
          m = body.uncompressed_size / 2 + 1;
          shrunk = true;
        }
      }
    }
    if (!r.retry_after.empty() || ctx.delivered == 0) {
      return PushOutcome::Retryable("loki: rate limited (429): " + Reason(r), retry_after());
    }
    // Part of this push is already stored: wait here (a batch retry would
    // re-send it), then try again, split when the request was over the burst.
    Duration wait = options_.rate_limit_backoff;
    for (int i = 0; i < ctx.backoff_level && wait < std::chrono::seconds(30); ++i) wait *= 2;
    ++ctx.backoff_level;
    if (ctx.backoff_level > 12) {
      return PushOutcome::Retryable("loki: rate limited (429): " + Reason(r), retry_after());
    }
    // Waiting does not change the clock; Clock waits are just not const.
    clock_->SleepFor(wait);
    if (shrunk) return split();
    return Send(ctx, batch, indexes, tenant, rejected);
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

PushOutcome LokiSink::HandleBadRequest(PushContext& ctx, const Batch& batch,
                                       std::span<const uint32_t> indexes, const std::string& tenant,
                                       const loki::HttpResponse& r,
                                       std::vector<Rejection>* rejected, int depth) {
  std::string reason = "loki HTTP 400: " + Reason(r);
  bool cut = r.body.size() >= loki::HttpClient::kMaxBody;  // a cut body may omit names
  std::vector<std::string> md = FindMetadataRefused(r.body);
  if (!md.empty() && !cut && depth == 0) {
    std::vector<uint32_t> resend;
    for (uint32_t idx : indexes) {
      std::string n = NormalizeLabels(ctx.plan.stream(ctx.plan.stream_of(idx)).labels);
      if (std::find(md.begin(), md.end(), n) != md.end()) resend.push_back(idx);
    }
    if (!resend.empty()) {
      {
        std::lock_guard<std::mutex> l(limits_mu_);
        metadata_in_line_[tenant] = true;
      }
      Log()->error(
          "loki: tenant \"{}\": the server refuses structured metadata ({}). From now on this "
          "tenant's metadata is carried inside each line as ` metadata={{...}}`; enable "
          "limits_config.allow_structured_metadata to restore it.",
          tenant, Reason(r));
      size_t stored = indexes.size() - resend.size();
      counters_.entries_accepted += stored;
      ctx.delivered += stored;
      ctx.encoder.SetLineOptions(ctx.encoder.options().max_line_bytes, true);
      ++counters_.requests;
      loki::Encoder::Body body = ctx.encoder.Encode(batch, ctx.plan, resend);
      loki::HttpResponse again =
          ctx.http.Post(push_url_, body.data, body.content_type, body.content_encoding, tenant);
      if (again.status >= 200 && again.status < 300) {
        counters_.entries_accepted += resend.size();
        ctx.delivered += resend.size();
        return PushOutcome::Ok();
      }
      if (again.status == 400) {
        return HandleBadRequest(ctx, batch, resend, tenant, again, rejected, depth + 1);
      }
      // Transient: the refused streams were not stored; the others were.
      return Send(ctx, batch, resend, tenant, rejected);
    }
  }
  std::vector<Named> named = cut ? std::vector<Named>{} : FindOversized(r.body);
  std::vector<bool> hit(indexes.size(), false);
  size_t hits = 0;
  for (const Named& nm : named) {
    for (size_t i = 0; i < indexes.size(); ++i) {
      if (hit[i]) continue;
      uint32_t idx = indexes[i];
      if (int64_t(ctx.encoder.LineSize(batch, ctx.plan, idx)) != nm.length) continue;
      if (NormalizeLabels(ctx.plan.stream(ctx.plan.stream_of(idx)).labels) != nm.stream) continue;
      hit[i] = true;
      ++hits;
      break;
    }
  }
  if (hits > 0 && hits == named.size()) {
    for (size_t i = 0; i < indexes.size(); ++i) {
      if (hit[i]) rejected->push_back({indexes[i], reason});
    }
    counters_.entries_accepted += indexes.size() - hits;
    ctx.delivered += indexes.size() - hits;
    return PushOutcome::Ok();
  }
  // Nothing (or not everything) the message names matches an entry: Loki may
  // have stored any of them, so none is re-sent; all go to the dead letters.
  for (uint32_t idx : indexes) rejected->push_back({idx, "possibly refused: " + Reason(r)});
  return PushOutcome::Ok();
}

std::vector<MetricSample> LokiSink::Metrics() const {
  LokiSinkStats st = stats();
  auto c = [](const char* n, const char* h, uint64_t v) {
    return MetricSample{n, h, true, {}, static_cast<double>(v)};
  };
  std::vector<MetricSample> out = {
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
      c("loki_rate_limited_total", "429 answers.", st.rate_limited),
      MetricSample{"loki_active_streams",
                   "Streams seen recently (the cardinality guard's count).",
                   false,
                   {},
                   static_cast<double>(active_streams())},
  };
  for (const auto& [tenant, n] : st.rate_limited_by_tenant) {
    out.push_back(MetricSample{"loki_rate_limited_by_tenant_total",
                               "429 answers by tenant.",
                               true,
                               {{"tenant", tenant}},
                               static_cast<double>(n)});
  }
  return out;
}

}  // namespace forcepipe
