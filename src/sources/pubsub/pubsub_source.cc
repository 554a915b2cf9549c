#include "sources/pubsub/pubsub_source.h"

#include <fnmatch.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <fstream>
#include <set>
#include <unordered_set>

#include "core/dead_letter.h"
#include "core/json_text.h"
#include "core/log.h"
#include "salesforce/auth/auth_config.h"
#include "salesforce/rest/rest_client.h"
#include "sources/pubsub/event_mapper.h"

namespace forcepipe::pubsub {

namespace {

constexpr std::string_view kCorruptedCode = "replayid.corrupted";

std::string PresetName(Preset p) { return p == Preset::kEarliest ? "EARLIEST" : "LATEST"; }

std::string IsoNow(const Clock& clock) {
  int64_t ms = clock.NowUnixNanos() / 1'000'000;
  std::time_t t = ms / 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace

struct PubSubSource::Stream {
  size_t index = 0;
  std::string topic;
  std::string key;                      // checkpoint key, set once the org is known
  std::optional<std::string> position;  // replay id bytes to resume strictly after
  Preset preset = Preset::kEarliest;    // used when no position
  std::unique_ptr<EventMapper> mapper;
  std::mutex mu;
  grpc::ClientContext* active = nullptr;  // GUARDED_BY(mu)
  // Bumped on every message and every event handed over; the watchdog
  // notices when it stops moving (so the hot path never reads a clock).
  std::atomic<uint64_t> activity{0};
  uint64_t watchdog_seen = 0;     // watchdog thread only
  int64_t watchdog_since_ns = 0;  // watchdog thread only: when `activity` last moved
  std::atomic<bool> in_emit{false};
  std::string problem;         // GUARDED_BY(source health_mu_): "" = healthy
  SteadyTime failing_since{};  // stream thread only: first failure of the current run
  int failures = 0;            // stream thread only: failed attempts in the current run

  // ManagedSubscribe only.
  std::string managed;  // developer name or subscription id; "" = Subscribe
  std::mutex write_mu;  // one writer at a time on the live stream
  grpc::ClientReaderWriter<eventbus::v1::ManagedFetchRequest, eventbus::v1::ManagedFetchResponse>*
      managed_stream = nullptr;  // GUARDED_BY(write_mu)
  std::string commit_target;     // GUARDED_BY(source commit_mu_): durable, base64
  std::string commit_sent;       // GUARDED_BY(source commit_mu_): written on the live stream
  std::string committed_key;     // GUARDED_BY(source commit_mu_): copy of `key`
  // Positions handed to the lane that Salesforce has not acknowledged as
  // committed, oldest first (stream thread only): a reconnect resends them.
  std::deque<std::string> unacked;
  std::unordered_set<std::string> unacked_set;
};

namespace {

// The per-event counters and activity marks have one writer (the stream
// thread) and are only read for metrics and by the watchdog: relaxed
// operations keep the hot path free of fences.
inline void Bump(std::atomic<uint64_t>& a) {
  a.store(a.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

template <typename Req>
void NameSubscription(const std::string& managed, Req* req) {
  // Subscription ids are 18-character record ids; anything else is a
  // developer name.
  if (managed.size() == 18 && managed[0] == '0') {
    req->set_subscription_id(managed);
  } else {
    req->set_developer_name(managed);
  }
}

}  // namespace

PubSubSource::PubSubSource(PubSubSourceOptions options,
                           std::unique_ptr<salesforce::TokenProvider> tokens)
    : options_(std::move(options)), tokens_(std::move(tokens)) {
  client_ = std::make_unique<PubSubClient>(options_.client, tokens_.get());
  for (const auto& t : options_.topics) {
    if (IsTopicPattern(t)) {
      patterns_.push_back(t);
    } else {
      AddStreamLocked(t);
    }
  }
}

void PubSubSource::AddStreamLocked(const std::string& topic) {
  counters_.push_back(std::make_unique<Counters>());
  auto s = std::make_unique<Stream>();
  s->index = streams_.size();
  s->topic = topic;
  s->preset = options_.initial_preset;
  if (auto it = options_.managed.find(s->topic); it != options_.managed.end())
    s->managed = it->second;
  streams_.push_back(std::move(s));
}

Result<std::string> PubSubSource::ParseReplayPosition(std::string_view key,
                                                      std::string_view value) {
  auto shown = [&] {
    return "\"" + std::string(value.substr(0, 64)) + (value.size() > 64 ? "...\"" : "\"");
  };
  if (value.empty()) {
    return Status::InvalidArgument("checkpoint " + std::string(key) +
                                   " holds an empty position, not a replay id");
  }
  auto bytes = Base64Decode(value);
  if (!bytes || bytes->empty() || bytes->size() > kMaxReplayIdBytes ||
      Base64Encode(*bytes) != value) {
    return Status::InvalidArgument("checkpoint " + std::string(key) + " holds " + shown() +
                                   ", not a replay id (padded base64 of 1 to " +
                                   std::to_string(kMaxReplayIdBytes) + " bytes)");
  }
  return std::move(*bytes);
}

Status PubSubSource::CheckPosition(std::string_view key, std::string_view value) const {
  // pubsub:<org id>:<topic>
  bool mine = false;
  if (key.starts_with("pubsub:")) {
    std::string_view rest = key.substr(7);
    size_t colon = rest.find(':');
    if (colon != std::string_view::npos && colon > 0) {
      const std::string topic(rest.substr(colon + 1));
      for (const auto& t : options_.topics) {
        if (t == topic || (IsTopicPattern(t) && fnmatch(t.c_str(), topic.c_str(), 0) == 0)) {
          mine = true;
        }
      }
    }
  }
  if (!mine) {
    std::string topics;
    for (const auto& t : options_.topics) topics += (topics.empty() ? "" : ", ") + t;
    return Status::NotFound("source " + options_.name +
                            " keeps its positions under pubsub:<org id>:<topic> for " + topics +
                            ", not " + std::string(key));
  }
  return ParseReplayPosition(key, value).status();
}

bool IsTopicPattern(std::string_view topic) {
  return topic.find_first_of("*?[") != std::string_view::npos;
}

std::vector<std::string> MatchTopicPattern(const std::string& pattern,
                                           const std::vector<std::string>& sobject_names) {
  std::vector<std::string> out;
  for (const auto& name : sobject_names) {
    auto ends_with = [&](std::string_view suffix) {
      return name.size() >= suffix.size() &&
             name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    // Only event types have Pub/Sub channels under /event/.
    if (!ends_with("EventStream") && !ends_with("__e")) continue;
    std::string topic = "/event/" + name;
    if (fnmatch(pattern.c_str(), topic.c_str(), 0) == 0) out.push_back(std::move(topic));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Status PubSubSource::ResolvePatterns(SourceContext& ctx) {
  if (patterns_.empty()) return Status::Ok();
  auto log = log::Get("source.pubsub");
  Backoff backoff(options_.reconnect, options_.seed * 7919);
  for (int attempt = 0;; ++attempt) {
    auto sobjects = salesforce::DescribeGlobal(options_.rest, *tokens_);
    if (sobjects.ok()) {
      std::vector<std::string> names;
      for (const auto& o : *sobjects) names.push_back(o.name);
      std::lock_guard<std::mutex> l(streams_mu_);
      std::set<std::string> have;
      for (const auto& st : streams_) have.insert(st->topic);
      for (const auto& p : patterns_) {
        auto matched = MatchTopicPattern(p, names);
        if (matched.empty()) log->warn("{}: no event type of the org matches; ignored", p);
        for (const auto& t : matched) {
          if (have.insert(t).second) AddStreamLocked(t);
        }
        log->info("{}: discovered {} topic(s) via describeGlobal", p, matched.size());
      }
      if (streams_.empty()) {
        return Status::NotFound("no topic to subscribe to: no event type of the org matches " +
                                options_.topics.front());
      }
      return Status::Ok();
    }
    const StatusCode code = sobjects.status().code();
    if (code != StatusCode::kUnavailable && code != StatusCode::kResourceExhausted &&
        code != StatusCode::kUnauthenticated) {
      return sobjects.status().WithContext("discovering topics for " + patterns_.front());
    }
    Duration d = backoff.Next(attempt);
    log->warn("discovering topics for {}: {}; retrying in {}ms", patterns_.front(),
              sobjects.status().message(),
              std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
    ctx.SetHealth("topic discovery failing for " + options_.name + ": " +
                  sobjects.status().message());
    if (!ctx.WaitFor(d) || stopping_) return Status::Cancelled("stopping");
  }
}

PubSubSource::~PubSubSource() { Stop(); }

void PubSubSource::Stop() {
  stopping_ = true;
  {
    std::lock_guard<std::mutex> l(commit_mu_);
    commit_cv_.notify_all();
  }
  std::lock_guard<std::mutex> g(streams_mu_);
  for (auto& s : streams_) {
    std::lock_guard<std::mutex> l(s->mu);
    if (s->active) s->active->TryCancel();
  }
}

Status PubSubSource::Run(SourceContext& ctx) {
  FP_RETURN_IF_ERROR(client_->Connect());
  Status resolved = ResolvePatterns(ctx);
  if (!resolved.ok()) return stopping_ || ctx.stopping() ? Status::Ok() : resolved;
  if (!patterns_.empty()) ctx.SetHealth("");  // discovery's retries are over
  // From here on the set of streams is fixed.
  std::vector<std::thread> threads;
  for (size_t i = 0; i < streams_.size(); ++i) threads.emplace_back([&, i] { RunStream(i, ctx); });
  std::thread watchdog([&] { WatchdogLoop(ctx); });
  std::thread committer;
  if (!options_.managed.empty()) committer = std::thread([this] { CommitterLoop(); });
  for (auto& t : threads) t.join();
  stopping_ = true;
  {
    std::lock_guard<std::mutex> l(commit_mu_);
    commit_cv_.notify_all();
  }
  watchdog.join();
  if (committer.joinable()) committer.join();
  std::lock_guard<std::mutex> l(dl_mu_);
  return fatal_;
}

void PubSubSource::WatchdogLoop(SourceContext& ctx) {
  const int64_t limit = options_.watchdog.count();
  while (!stopping_ && !ctx.stopping()) {
    ctx.WaitFor(std::chrono::milliseconds(500));
    int64_t now = std::chrono::steady_clock::now().time_since_epoch().count();
    for (auto& s : streams_) {
      const uint64_t seen = s->activity.load(std::memory_order_relaxed);
      // Moving, or blocked on backpressure: not silent.
      if (seen != s->watchdog_seen || s->in_emit.load(std::memory_order_relaxed)) {
        s->watchdog_seen = seen;
        s->watchdog_since_ns = now;
        continue;
      }
      std::lock_guard<std::mutex> l(s->mu);
      if (s->active && now - s->watchdog_since_ns > limit) {
        log::Get("source.pubsub")
            ->warn("{}: no message for {}s; cancelling the stream to reconnect", s->topic,
                   std::chrono::duration_cast<std::chrono::seconds>(options_.watchdog).count());
        counters_[s->index]->watchdog_cancels++;
        s->active->TryCancel();
        s->watchdog_since_ns = now;  // one cancel per silence
      }
    }
  }
}

void PubSubSource::OnCommitted(const CheckpointMap& committed) {
  if (options_.managed.empty()) return;
  std::lock_guard<std::mutex> g(streams_mu_);
  std::lock_guard<std::mutex> l(commit_mu_);
  bool any = false;
  for (auto& s : streams_) {
    if (s->managed.empty() || s->committed_key.empty()) continue;
    auto it = committed.find(s->committed_key);
    if (it == committed.end() || it->second.empty()) continue;  // "" = gap: nothing to commit
    s->commit_target = it->second;
    any = true;
  }
  if (any) commit_cv_.notify_all();
}

void PubSubSource::CommitterLoop() {
  auto log = log::Get("source.pubsub");
  uint64_t request_seq = 0;
  std::unique_lock<std::mutex> l(commit_mu_);
  while (!stopping_) {
    bool wrote_all = true;
    for (auto& s : streams_) {
      if (s->managed.empty() || s->commit_target.empty() || s->commit_target == s->commit_sent)
        continue;
      std::string target = s->commit_target;
      l.unlock();
      bool written = false;
      auto bytes = Base64Decode(target);
      {
        std::lock_guard<std::mutex> w(s->write_mu);
        if (bytes && s->managed_stream) {
          eventbus::v1::ManagedFetchRequest req;
          req.set_num_requested(0);
          auto* c = req.mutable_commit_replay_id_request();
          c->set_commit_request_id("forcepipe-" + std::to_string(++request_seq));
          c->set_replay_id(*bytes);
          written = s->managed_stream->Write(req);
        }
      }
      l.lock();
      if (!bytes) {
        log->error("{}: committed position \"{}\" is not a base64 replay id; not committed to {}",
                   s->topic, target, s->managed);
        s->commit_sent = target;
      } else if (written) {
        s->commit_sent = target;
      } else {
        wrote_all = false;  // no live stream: sent when the next one opens
      }
    }
    if (stopping_) break;
    if (wrote_all) {
      commit_cv_.wait(l);
    } else {
      commit_cv_.wait_for(l, std::chrono::milliseconds(200));
    }
  }
}

Status PubSubSource::SeekManaged(Stream& s, const salesforce::AccessToken& token,
                                 const std::string& replay_b64) {
  auto bytes = Base64Decode(replay_b64);
  if (!bytes) return Status::InvalidArgument("not a base64 replay id: \"" + replay_b64 + "\"");
  grpc::ClientContext gctx;
  PubSubClient::Authorize(&gctx, token);
  gctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  {
    std::lock_guard<std::mutex> l(s.mu);
    if (stopping_) return Status::Cancelled("stopping");
    s.active = &gctx;
    Bump(s.activity);
  }
  auto stream = client_->stub().ManagedSubscribe(&gctx);
  eventbus::v1::ManagedFetchRequest req;
  NameSubscription(s.managed, &req);
  req.set_num_requested(0);
  req.mutable_commit_replay_id_request()->set_commit_request_id("forcepipe-seek");
  req.mutable_commit_replay_id_request()->set_replay_id(*bytes);
  bool acked = false;
  std::string refused;
  if (stream->Write(req)) {
    eventbus::v1::ManagedFetchResponse resp;
    while (stream->Read(&resp)) {
      if (resp.has_commit_response() &&
          resp.commit_response().commit_request_id() == "forcepipe-seek") {
        acked = true;
        if (resp.commit_response().has_error()) refused = resp.commit_response().error().msg();
        break;
      }
    }
  }
  gctx.TryCancel();
  grpc::Status st = stream->Finish();
  {
    std::lock_guard<std::mutex> l(s.mu);
    s.active = nullptr;
  }
  if (!acked) {
    Status failed = FromGrpc(st, gctx, "ManagedSubscribe " + s.managed);
    if (failed.ok() || failed.code() == StatusCode::kCancelled)
      return Status::Unavailable("ManagedSubscribe " + s.managed +
                                 ": the stream ended before the commit was answered");
    return failed;
  }
  if (!refused.empty()) {
    counters_[s.index]->managed_commit_failures++;
    log::Get("source.pubsub")
        ->error(
            "{}: {} refused our stored position {} ({}); it resumes from its own position instead",
            s.topic, s.managed, replay_b64, refused);
  }
  return Status::Ok();
}

Status PubSubSource::DeadLetter(const std::string& topic, const std::string& replay_b64,
                                const std::string& schema_id, const std::string& reason,
                                const std::string& payload) {
  std::unique_ptr<DeadLetterWriter>* writer;
  {
    std::lock_guard<std::mutex> l(dl_mu_);
    if (!dead_letter_writer_) {
      dead_letter_writer_ = std::make_unique<DeadLetterWriter>(options_.dead_letter_path);
    }
    writer = &dead_letter_writer_;
  }
  return (*writer)->Append({{"topic", topic},
                            {"replay_id", replay_b64},
                            {"schema_id", schema_id},
                            {"reason", reason},
                            {"payload_base64", Base64Encode(payload)}});
}

void PubSubSource::SetTopicHealth(Stream& s, SourceContext& ctx, std::string problem) {
  std::lock_guard<std::mutex> l(health_mu_);
  if (s.problem == problem) return;
  s.problem = std::move(problem);
  std::string all;
  for (const auto& st : streams_) {
    if (st->problem.empty()) continue;
    all += (all.empty() ? "" : "; ") + st->problem;
  }
  if (all == reported_health_) return;
  reported_health_ = all;
  ctx.SetHealth(all);
}

void PubSubSource::StreamFailed(Stream& s, const Status& st) {
  std::lock_guard<std::mutex> l(dl_mu_);
  if (first_failure_.ok()) first_failure_ = st.WithContext(s.topic);
  if (++failed_streams_ < streams_.size()) return;
  // Nothing is left streaming: the source fails.
  if (fatal_.ok()) fatal_ = first_failure_;
  stopping_ = true;
  Stop();
}

void PubSubSource::RunStream(size_t index, SourceContext& ctx) {
  Stream& s = *streams_[index];
  Counters& c = *counters_[index];
  auto log = log::Get("source.pubsub");
  Backoff backoff(options_.reconnect, options_.seed * 131 + index);
  int attempt = 0;
  bool loaded = false;
  std::string seek;  // ManagedSubscribe: our stored position, committed before the first stream
  auto fail = [&](Status st) {
    std::lock_guard<std::mutex> l(dl_mu_);
    if (fatal_.ok()) fatal_ = st.WithContext(s.topic);
    stopping_ = true;
    Stop();
  };
  auto wait = [&](const std::string& why) {
    Duration d = backoff.Next(attempt++);
    log->warn("{}: {}; reconnecting in {}ms", s.topic, why,
              std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
    c.reconnects++;
    // Failing past the threshold (e.g. an unreachable endpoint) is a health
    // problem of this topic until a stream delivers again.
    const SteadyTime now = ctx.clock().SteadyNow();
    if (s.failures++ == 0) s.failing_since = now;
    if (now - s.failing_since >= options_.unhealthy_after) {
      SetTopicHealth(
          s, ctx,
          "topic " + s.topic + " failing for " +
              std::to_string(
                  std::chrono::duration_cast<std::chrono::seconds>(now - s.failing_since).count()) +
              "s (" + std::to_string(s.failures) + " attempts): " + why);
    }
    return ctx.WaitFor(d) && !stopping_;
  };

  while (!stopping_ && !ctx.stopping()) {
    auto token = tokens_->Get();
    if (!token.ok()) {
      c.auth_failures++;
      SetTopicHealth(s, ctx, "auth failing for " + options_.name + ": " + token.status().message());
      if (token.status().code() == StatusCode::kInvalidArgument) return fail(token.status());
      if (!wait("authentication failed: " + token.status().message())) break;
      continue;
    }
    if (!loaded) {
      s.key = "pubsub:" + token->org_id + ":" + s.topic;
      {
        std::lock_guard<std::mutex> l(commit_mu_);
        s.committed_key = s.key;
      }
      s.mapper = std::make_unique<EventMapper>(token->org_id, options_.org_name, s.topic, s.key);
      s.mapper->set_line_only(options_.line_only);
      auto cp = ctx.LoadCheckpoint(s.key);
      if (!cp.ok()) return fail(cp.status());
      if (cp->has_value()) {
        // An unreadable or empty stored position is never a silent restart
        // from replay_preset: the user resets it explicitly.
        auto bytes = ParseReplayPosition(s.key, **cp);
        if (!bytes.ok()) {
          return fail(Status::Corruption(
              bytes.status().message() + " in the " + ctx.checkpoint_store_name() +
              "; refusing to start from replay_preset silently: `forcepipe "
              "state set " +
              s.key + " <replay id>` to resume from a known position, or `forcepipe state delete " +
              s.key + "` to start from replay_preset"));
        }
        s.position = *bytes;
        if (!s.managed.empty()) seek = **cp;
      }
      loaded = true;
      if (s.managed.empty()) {
        log->info("{}: subscribing from {}", s.topic,
                  s.position ? "replay id " + **cp : PresetName(s.preset));
      } else {
        log->info("{}: managed subscription {} from {}", s.topic, s.managed,
                  s.position ? "replay id " + **cp : "its own committed position");
      }
    }
    bool delivered = false;
    Status st;
    if (!seek.empty()) {
      st = SeekManaged(s, *token, seek);
      if (st.ok()) seek.clear();
    }
    if (st.ok()) {
      st = s.managed.empty() ? SubscribeOnce<false>(s, ctx, *token, &delivered)
                             : SubscribeOnce<true>(s, ctx, *token, &delivered);
    }
    if (stopping_ || ctx.stopping()) break;
    if (delivered) attempt = 0;
    if (st.code() == StatusCode::kUnauthenticated) {
      c.auth_refreshes++;
      log->info("{}: token rejected; re-authenticating", s.topic);
      auto fresh = tokens_->Refresh(token->token);
      if (!fresh.ok()) {
        c.auth_failures++;
        SetTopicHealth(s, ctx,
                       "auth failing for " + options_.name + ": " + fresh.status().message());
        if (!wait("re-authentication failed: " + fresh.status().message())) break;
      }
      continue;
    }
    if (st.code() == StatusCode::kInvalidArgument &&
        st.message().find(kCorruptedCode) != std::string::npos) {
      // The stored position is invalid or past retention: fall back, and say
      // plainly which window may be lost.
      c.gaps++;
      std::string lost = s.position ? Base64Encode(*s.position) : "";
      log->error(
          "{}: replay id {} rejected as corrupted/expired; resuming from {} — events after it that "
          "are no "
          "longer retained are lost",
          s.topic, lost, PresetName(options_.corrupted_fallback));
      Entry gap;
      gap.timestamp_ns = ctx.clock().NowUnixNanos();
      gap.labels = std::make_shared<LabelSet>(LabelSet{
          {"source", "pubsub"}, {"event_type", "forcepipe_gap"}, {"sf_org_id", token->org_id}});
      std::string detected = IsoNow(ctx.clock());
      gap.line = "{\"forcepipe_gap\":{\"topic\":\"" + s.topic +
                 "\",\"reason\":\"replay id corrupted or past retention\","
                 "\"last_replay_id\":\"" +
                 lost + "\",\"resumed_from\":\"" + PresetName(options_.corrupted_fallback) +
                 "\",\"detected_at\":\"" + detected + "\"}}";
      gap.structured_metadata = {
          {std::string(meta::kEventId), "gap:" + s.key + ":" + lost + ":" + detected},
          {std::string(meta::kChangeType), "FORCEPIPE_GAP"},
          {"topic", s.topic}};
      // No position: the stored one stays committed until the first event or
      // keepalive after the fallback commits a real replay id. (An empty value
      // would read as "no checkpoint" at the next start, i.e. replay_preset,
      // losing everything published while forcepipe was down.) A restart
      // before then meets the rejected id again and records the gap again.
      gap.checkpoint = {};
      s.position.reset();
      s.preset = options_.corrupted_fallback;
      s.in_emit = true;
      bool ok = ctx.Emit(std::move(gap));
      s.in_emit = false;
      if (!ok) break;
      continue;
    }
    if (st.code() == StatusCode::kInvalidArgument || st.code() == StatusCode::kNotFound ||
        st.code() == StatusCode::kPermissionDenied) {
      // This topic's problem: its stream stops, the others keep streaming.
      log->error("{}: {}; this topic's stream stops, the other topics keep streaming", s.topic,
                 st.message());
      SetTopicHealth(s, ctx, "topic " + s.topic + " failed: " + st.message());
      return StreamFailed(s, st);
    }
    if (!wait(st.ok() ? std::string("stream closed by the server") : st.message())) break;
  }
}

template <bool kManaged>
Status PubSubSource::SubscribeOnce(Stream& s, SourceContext& ctx,
                                   const salesforce::AccessToken& token, bool* delivered) {
  using Req =
      std::conditional_t<kManaged, eventbus::v1::ManagedFetchRequest, eventbus::v1::FetchRequest>;
  using Resp =
      std::conditional_t<kManaged, eventbus::v1::ManagedFetchResponse, eventbus::v1::FetchResponse>;
  Counters& c = *counters_[s.index];
  grpc::ClientContext gctx;
  PubSubClient::Authorize(&gctx, token);
  {
    std::lock_guard<std::mutex> l(s.mu);
    if (stopping_) return Status::Cancelled("stopping");
    s.active = &gctx;
    Bump(s.activity);
  }
  const int n = std::clamp(options_.batch_size, 1, 100);
  Req first;
  std::unique_ptr<grpc::ClientReaderWriter<Req, Resp>> stream;
  if constexpr (kManaged) {
    stream = client_->stub().ManagedSubscribe(&gctx);
    NameSubscription(s.managed, &first);
  } else {
    stream = client_->stub().Subscribe(&gctx);
    first.set_topic_name(s.topic);
    if (s.position) {
      first.set_replay_preset(eventbus::v1::CUSTOM);
      first.set_replay_id(*s.position);
    } else {
      first.set_replay_preset(s.preset == Preset::kEarliest ? eventbus::v1::EARLIEST
                                                            : eventbus::v1::LATEST);
    }
  }
  first.set_num_requested(n);
  auto write = [&](const Req& r) {
    if constexpr (kManaged) {
      std::lock_guard<std::mutex> w(s.write_mu);
      return stream->Write(r);
    } else {
      return stream->Write(r);
    }
  };
  auto remember = [&](const std::string& replay_id) {
    if constexpr (kManaged) {
      if (s.unacked_set.insert(replay_id).second) s.unacked.push_back(replay_id);
    }
  };
  int64_t outstanding = n;
  c.credits_outstanding = outstanding;
  bool healthy_reported = false;
  Result<std::shared_ptr<const CompiledSchema>> last_schema = Status::NotFound("no schema yet");

  // Handles one response in order: commit answers, events, keepalive.
  // Returns false to end the stream (`*why` says why: stopping, or a
  // transient schema fetch failure to resubscribe from the last position).
  auto process = [&](const Resp& resp, Status* why) -> bool {
    bool commit_answer = false;
    if constexpr (kManaged) {
      if (resp.has_commit_response()) {
        commit_answer = true;
        const auto& cr = resp.commit_response();
        if (cr.has_error()) {
          c.managed_commit_failures++;
          log::Get("source.pubsub")
              ->warn("{}: {} refused commit of {}: {}", s.topic, s.managed,
                     Base64Encode(cr.replay_id()), cr.error().msg());
        } else {
          c.managed_commits++;
          // Everything up to the acknowledged position is committed upstream.
          if (s.unacked_set.count(cr.replay_id())) {
            while (!s.unacked.empty()) {
              std::string front = std::move(s.unacked.front());
              s.unacked.pop_front();
              s.unacked_set.erase(front);
              if (front == cr.replay_id()) break;
            }
          }
        }
      }
    }
    for (const auto& ce : resp.events()) {
      if constexpr (kManaged) {
        if (s.unacked_set.count(ce.replay_id())) {
          Bump(c.managed_duplicates_skipped);  // resent after a reconnect; already in the lane
          continue;
        }
      }
      Entry e;
      // Consecutive events almost always share a schema: skip the cache lock.
      if (!last_schema.ok() || (*last_schema)->id != ce.event().schema_id()) {
        last_schema = client_->Schema(ce.event().schema_id());
      }
      const auto& schema = last_schema;
      Status mapped;
      if (!schema.ok()) {
        if (schema.status().code() == StatusCode::kUnavailable ||
            schema.status().code() == StatusCode::kUnauthenticated) {
          *why = schema.status();  // resubscribe from the last position; nothing skipped
          return false;
        }
        mapped = schema.status();
      } else {
        mapped = s.mapper->Map(ce, **schema, &e);
      }
      if (!mapped.ok()) {
        std::string replay_b64 = Base64Encode(ce.replay_id());
        Status written = DeadLetter(s.topic, replay_b64, ce.event().schema_id(), mapped.message(),
                                    ce.event().payload());
        if (!written.ok()) {
          // Not recorded anywhere: do not move past it. Resubscribe from the
          // last position (with backoff) and try again.
          ctx.SetHealth("cannot dead-letter an undecodable event: " + written.message());
          *why = written.WithContext(s.topic + ": event at replay id " + replay_b64 +
                                     " cannot be decoded (" + mapped.message() + ")");
          return false;
        }
        c.dead_letters++;
        log::Get("source.pubsub")
            ->warn("{}: event at replay id {} cannot be decoded ({}); dead-lettered", s.topic,
                   replay_b64, mapped.message());
        e = Entry();
        e.checkpoint_only = true;
        e.checkpoint = {s.key, replay_b64};
      } else {
        if (e.timestamp_ns == 0 && !options_.line_only) e.timestamp_ns = ctx.clock().NowUnixNanos();
        std::string_view ct = e.Metadata(meta::kChangeType);
        if (ct.rfind("GAP_", 0) == 0) Bump(c.gap_events);
        Bump(c.events);
      }
      s.in_emit.store(true, std::memory_order_relaxed);
      bool accepted = ctx.Emit(std::move(e));
      s.in_emit.store(false, std::memory_order_relaxed);
      Bump(s.activity);
      if (!accepted) return false;
      s.position = ce.replay_id();
      remember(ce.replay_id());
    }
    if (!commit_answer && resp.events_size() == 0 && !resp.latest_replay_id().empty() &&
        (!s.position || *s.position != resp.latest_replay_id())) {
      c.keepalives++;
      Entry cp;
      cp.checkpoint_only = true;
      cp.checkpoint = {s.key, Base64Encode(resp.latest_replay_id())};
      if (!ctx.Emit(std::move(cp))) return false;
      s.position = resp.latest_replay_id();
      remember(resp.latest_replay_id());
    }
    return true;
  };

  // One thread reads, decodes and emits. (A separate decoder thread per stream
  // was measured slower on two cores, where the server shares the machine.)
  bool ok = write(first);
  if constexpr (kManaged) {
    // Only now may the committer write: the first request must name the
    // subscription.
    {
      std::lock_guard<std::mutex> w(s.write_mu);
      if (ok) s.managed_stream = stream.get();
    }
    std::lock_guard<std::mutex> l(commit_mu_);
    s.commit_sent.clear();  // the last write may have been lost with the old stream
    commit_cv_.notify_all();
  }
  bool stopped_early = false;
  Status why;
  Resp resp;
  while (ok && stream->Read(&resp)) {
    Bump(s.activity);
    if (!healthy_reported) {
      SetTopicHealth(s, ctx, "");
      s.failures = 0;
      healthy_reported = true;
    }
    *delivered = true;
    outstanding = resp.pending_num_requested();
    if (!process(resp, &why)) {
      stopped_early = true;
      break;
    }
    if (outstanding <= n / 2) {
      Req more;
      more.set_num_requested(static_cast<int>(n - outstanding));
      if (!write(more)) break;
      outstanding = n;
    }
    c.credits_outstanding = outstanding;
  }
  if (!ok || stopped_early || stopping_ || ctx.stopping()) gctx.TryCancel();
  if constexpr (kManaged) {
    std::lock_guard<std::mutex> w(s.write_mu);
    s.managed_stream = nullptr;
  }
  grpc::Status st = stream->Finish();
  {
    std::lock_guard<std::mutex> l(s.mu);
    s.active = nullptr;
  }
  c.credits_outstanding = 0;
  if (!why.ok()) return why;  // e.g. a transient schema fetch failure: resubscribe
  return FromGrpc(st, gctx, (kManaged ? "ManagedSubscribe " + s.managed : "Subscribe " + s.topic));
}

std::vector<std::string> PubSubSource::topics() const {
  std::lock_guard<std::mutex> g(streams_mu_);
  std::vector<std::string> out;
  for (const auto& st : streams_) out.push_back(st->topic);
  return out;
}

std::vector<MetricSample> PubSubSource::Metrics() const {
  std::vector<MetricSample> out;
  std::lock_guard<std::mutex> g(streams_mu_);
  for (size_t i = 0; i < streams_.size(); ++i) {
    const Counters& c = *counters_[i];
    std::vector<Label> l = {{"topic", streams_[i]->topic}};
    auto add = [&](const char* name, const char* help, bool counter, double v) {
      out.push_back({name, help, counter, l, v});
    };
    add("pubsub_events_total", "Events received from the Pub/Sub API.", true,
        static_cast<double>(c.events.load()));
    add("pubsub_keepalives_total", "Keepalive responses whose position was stored.", true,
        static_cast<double>(c.keepalives.load()));
    add("pubsub_reconnects_total", "Stream reconnects after an error or close.", true,
        static_cast<double>(c.reconnects.load()));
    add("pubsub_gaps_total",
        "Corrupted/expired replay ids that forced a fallback (events may be lost).", true,
        static_cast<double>(c.gaps.load()));
    add("pubsub_gap_events_total", "GAP_* change events received (records to re-read).", true,
        static_cast<double>(c.gap_events.load()));
    add("pubsub_dead_letters_total", "Undecodable events written to the dead-letter file.", true,
        static_cast<double>(c.dead_letters.load()));
    add("pubsub_auth_refreshes_total", "Tokens re-minted after UNAUTHENTICATED.", true,
        static_cast<double>(c.auth_refreshes.load()));
    add("pubsub_auth_failures_total", "Failed attempts to obtain a token.", true,
        static_cast<double>(c.auth_failures.load()));
    add("pubsub_watchdog_cancels_total", "Streams cancelled for silence.", true,
        static_cast<double>(c.watchdog_cancels.load()));
    if (!streams_[i]->managed.empty()) {
      add("pubsub_managed_commits_total",
          "Positions Salesforce acknowledged as committed to the managed subscription.", true,
          static_cast<double>(c.managed_commits.load()));
      add("pubsub_managed_commit_failures_total",
          "Commits to the managed subscription answered with an error.", true,
          static_cast<double>(c.managed_commit_failures.load()));
      add("pubsub_managed_duplicates_skipped_total",
          "Events resent after a reconnect that were already in the lane.", true,
          static_cast<double>(c.managed_duplicates_skipped.load()));
    }
    add("pubsub_credits_outstanding", "Events requested and not yet received.", false,
        static_cast<double>(c.credits_outstanding.load()));
  }
  return out;
}

namespace {

using config::OptionType;

const config::OptionTable kOptions = {
    {.key = "endpoint",
     .type = OptionType::kString,
     .default_value = "api.pubsub.salesforce.com:7443",
     .description = "Pub/Sub API host:port"},
    {.key = "plaintext",
     .type = OptionType::kBool,
     .default_value = "false",
     .description = "no TLS (local emulator only)"},
    {.key = "ca_file",
     .type = OptionType::kString,
     .description = "PEM roots for TLS; default: system roots"},
    {.key = "topics",
     .type = OptionType::kStringList,
     .description = "topics, e.g. /data/AccountChangeEvent (Subscribe); /event/*EventStream "
                    "discovers every Real-Time Event Monitoring stream via describeGlobal",
     .example = "[/data/AccountChangeEvent, /event/LoginEventStream]"},
    {.key = "managed_subscriptions",
     .type = OptionType::kStringMap,
     .description =
         "topics read through ManagedSubscribe: topic -> subscription developer name or id "
         "(positions are committed to Salesforce once the sink has the events)",
     .example = "{/data/ContactChangeEvent: Managed_ContactChangeEvent}"},
    {.key = "api_version",
     .type = OptionType::kString,
     .default_value = "v62.0",
     .description = "REST API version for describeGlobal (topic patterns)"},
    {.key = "org",
     .type = OptionType::kString,
     .description = "a friendly org name, added as label `org`"},
    {.key = "replay_preset",
     .type = OptionType::kString,
     .default_value = "earliest",
     .description = "where to start without a checkpoint",
     .choices = {"earliest", "latest"}},
    {.key = "corrupted_fallback",
     .type = OptionType::kString,
     .default_value = "earliest",
     .description =
         "where to restart when the stored replay id is rejected (a gap record is emitted)",
     .choices = {"earliest", "latest"}},
    {.key = "batch_size",
     .type = OptionType::kInt,
     .default_value = "100",
     .description = "events requested per stream (credits are topped up at half)",
     .min = 1,
     .max = 100},
    {.key = "watchdog",
     .type = OptionType::kDuration,
     .default_value = "300s",
     .description = "reconnect a stream silent for this long",
     .min = 1,
     .max = 86400},
    {.key = "unhealthy_after",
     .type = OptionType::kDuration,
     .default_value = "60s",
     .description = "a topic failing to stream (endpoint unreachable, auth) for this long makes "
                    "the source unhealthy: /readyz 503 naming the topic, "
                    "forcepipe_source_healthy 0; 0 = at the first failure",
     .min = 0,
     .max = 86400},
    {.key = "reconnect_initial_backoff",
     .type = OptionType::kDuration,
     .default_value = "1s",
     .description = "first reconnect wait (exponential, full jitter)",
     .min = 0.001,
     .max = 3600},
    {.key = "reconnect_max_backoff",
     .type = OptionType::kDuration,
     .default_value = "60s",
     .description = "longest reconnect wait",
     .min = 0.001,
     .max = 3600},
    {.key = "auth",
     .type = OptionType::kSection,
     .description = "Salesforce OAuth",
     .section = nullptr},
};

const config::OptionTable& Options() {
  static const config::OptionTable table = [] {
    config::OptionTable t = kOptions;
    for (auto& o : t) {
      if (o.key == "auth") o.section = &salesforce::AuthOptionTable();
    }
    return t;
  }();
  return table;
}

}  // namespace

Result<PubSubSourceOptions> OptionsFromNode(const config::Node& n, const FactoryContext& ctx) {
  PubSubSourceOptions o;
  o.name = ctx.name;
  o.topics = n.GetStringList("topics");
  o.managed = n.GetStringMap("managed_subscriptions");
  auto is_topic = [](const std::string& t) {
    return t.rfind("/data/", 0) == 0 || t.rfind("/event/", 0) == 0;
  };
  for (const auto& t : o.topics) {
    if (!is_topic(t)) {
      return Status::InvalidArgument(
          n.PathOf("topics") + ": \"" + t +
          "\" is not a topic like /data/AccountChangeEvent or /event/Name__e");
    }
    if (IsTopicPattern(t) && t.rfind("/event/", 0) != 0) {
      return Status::InvalidArgument(
          n.PathOf("topics") + ": \"" + t +
          "\": only /event/ topics can be discovered (e.g. /event/*EventStream)");
    }
    if (o.managed.count(t)) {
      return Status::InvalidArgument(n.PathOf("topics") + ": \"" + t +
                                     "\" is also under managed_subscriptions; list it once");
    }
  }
  for (const auto& [t, sub] : o.managed) {
    if (!is_topic(t)) {
      return Status::InvalidArgument(
          n.PathOf("managed_subscriptions") + ": \"" + t +
          "\" is not a topic like /data/AccountChangeEvent or /event/Name__e");
    }
    if (IsTopicPattern(t)) {
      return Status::InvalidArgument(n.PathOf("managed_subscriptions") + ": \"" + t +
                                     "\": a managed subscription names one topic, not a pattern");
    }
    if (sub.empty()) {
      return Status::InvalidArgument(n.PathOf("managed_subscriptions") + "." + t +
                                     ": expected a subscription developer name or id");
    }
    o.topics.push_back(t);
  }
  if (o.topics.empty()) {
    return Status::InvalidArgument(n.PathOf("topics") +
                                   ": expected at least one topic (or managed_subscriptions)");
  }
  o.org_name = n.GetString("org");
  o.rest.api_version = n.GetString("api_version");
  if (n.Has("auth")) {
    config::Node auth = n.GetSection("auth");
    o.rest.ca_file = auth.GetString("ca_file");
    if (auth.Has("insecure_skip_verify"))
      o.rest.insecure_skip_verify = auth.GetBool("insecure_skip_verify");
  }
  o.rest.timeout = std::chrono::seconds(15);
  o.client.endpoint = n.GetString("endpoint");
  o.client.plaintext = n.GetBool("plaintext");
  o.client.ca_file = n.GetString("ca_file");
  o.initial_preset = n.GetString("replay_preset") == "latest" ? Preset::kLatest : Preset::kEarliest;
  o.corrupted_fallback =
      n.GetString("corrupted_fallback") == "latest" ? Preset::kLatest : Preset::kEarliest;
  o.batch_size = static_cast<int>(n.GetInt("batch_size"));
  o.watchdog = n.GetDuration("watchdog");
  o.unhealthy_after = n.GetDuration("unhealthy_after");
  o.reconnect.initial = n.GetDuration("reconnect_initial_backoff");
  o.reconnect.max = n.GetDuration("reconnect_max_backoff");
  o.dead_letter_path =
      (std::filesystem::path(ctx.data_dir) / ("pubsub-dead-letters-" + ctx.name + ".jsonl"))
          .string();
  return o;
}

SourceFactory PubSubSourceFactory() {
  SourceFactory f;
  f.kind = "pubsub";
  f.description =
      "Salesforce Pub/Sub API: Change Data Capture, platform events, Real-Time Event Monitoring";
  f.options = &Options();
  f.create = [](const config::Node& n,
                const FactoryContext& ctx) -> Result<std::unique_ptr<Source>> {
    FP_ASSIGN_OR_RETURN(PubSubSourceOptions o, OptionsFromNode(n, ctx));
    auto tokens = salesforce::MakeTokenProvider(n.GetSection("auth"), ctx.clock);
    if (!tokens.ok()) return tokens.status().WithContext(n.PathOf("auth"));
    return std::unique_ptr<Source>(
        std::make_unique<PubSubSource>(std::move(o), std::move(tokens).value()));
  };
  return f;
}

}  // namespace forcepipe::pubsub
