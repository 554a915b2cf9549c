#include "sources/pubsub/pubsub_source.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "core/log.h"
#include "salesforce/auth/auth_config.h"
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
  std::atomic<int64_t> last_activity_ns{0};
  std::atomic<bool> in_emit{false};
};

PubSubSource::PubSubSource(PubSubSourceOptions options,
                           std::unique_ptr<salesforce::TokenProvider> tokens)
    : options_(std::move(options)), tokens_(std::move(tokens)) {
  client_ = std::make_unique<PubSubClient>(options_.client, tokens_.get());
  for (size_t i = 0; i < options_.topics.size(); ++i) {
    counters_.push_back(std::make_unique<Counters>());
    auto s = std::make_unique<Stream>();
    s->index = i;
    s->topic = options_.topics[i];
    s->preset = options_.initial_preset;
    streams_.push_back(std::move(s));
  }
}

PubSubSource::~PubSubSource() { Stop(); }

void PubSubSource::Stop() {
  stopping_ = true;
  for (auto& s : streams_) {
    std::lock_guard<std::mutex> l(s->mu);
    if (s->active) s->active->TryCancel();
  }
}

Status PubSubSource::Run(SourceContext& ctx) {
  FP_RETURN_IF_ERROR(client_->Connect());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < streams_.size(); ++i) threads.emplace_back([&, i] { RunStream(i, ctx); });
  std::thread watchdog([&] { WatchdogLoop(ctx); });
  for (auto& t : threads) t.join();
  stopping_ = true;
  watchdog.join();
  std::lock_guard<std::mutex> l(dl_mu_);
  return fatal_;
}

void PubSubSource::WatchdogLoop(SourceContext& ctx) {
  const int64_t limit = options_.watchdog.count();
  while (!stopping_ && !ctx.stopping()) {
    ctx.WaitFor(std::chrono::milliseconds(500));
    int64_t now = std::chrono::steady_clock::now().time_since_epoch().count();
    for (auto& s : streams_) {
      if (s->in_emit) continue;  // blocked on backpressure, not silent
      std::lock_guard<std::mutex> l(s->mu);
      if (s->active && now - s->last_activity_ns.load() > limit) {
        log::Get("source.pubsub")
            ->warn("{}: no message for {}s; cancelling the stream to reconnect", s->topic,
                   std::chrono::duration_cast<std::chrono::seconds>(options_.watchdog).count());
        counters_[s->index]->watchdog_cancels++;
        s->active->TryCancel();
        s->last_activity_ns = now;  // one cancel per silence
      }
    }
  }
}

void PubSubSource::DeadLetter(const std::string& topic, const std::string& replay_b64,
                              const std::string& schema_id, const std::string& reason,
                              const std::string& payload) {
  std::string line = "{\"topic\":\"";
  log::AppendJsonEscaped(line, topic);
  line += "\",\"replay_id\":\"" + replay_b64 + "\",\"schema_id\":\"";
  log::AppendJsonEscaped(line, schema_id);
  line += "\",\"reason\":\"";
  log::AppendJsonEscaped(line, reason);
  line += "\",\"payload_base64\":\"" + Base64Encode(payload) + "\"}\n";
  std::lock_guard<std::mutex> l(dl_mu_);
  if (options_.dead_letter_path.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(
      std::filesystem::path(options_.dead_letter_path).parent_path(), ec);
  std::ofstream out(options_.dead_letter_path, std::ios::app | std::ios::binary);
  out << line;
  out.flush();
  if (!out)
    log::Get("source.pubsub")->error("cannot write dead letter file {}", options_.dead_letter_path);
}

void PubSubSource::RunStream(size_t index, SourceContext& ctx) {
  Stream& s = *streams_[index];
  Counters& c = *counters_[index];
  auto log = log::Get("source.pubsub");
  Backoff backoff(options_.reconnect, options_.seed * 131 + index);
  int attempt = 0;
  bool loaded = false;
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
    return ctx.WaitFor(d) && !stopping_;
  };

  while (!stopping_ && !ctx.stopping()) {
    auto token = tokens_->Get();
    if (!token.ok()) {
      c.auth_failures++;
      ctx.SetHealth("auth failing for " + options_.name + ": " + token.status().message());
      if (token.status().code() == StatusCode::kInvalidArgument) return fail(token.status());
      if (!wait("authentication failed: " + token.status().message())) break;
      continue;
    }
    if (!loaded) {
      s.key = "pubsub:" + token->org_id + ":" + s.topic;
      s.mapper = std::make_unique<EventMapper>(token->org_id, options_.org_name, s.topic, s.key);
      s.mapper->set_line_only(options_.line_only);
      auto cp = ctx.LoadCheckpoint(s.key);
      if (!cp.ok()) return fail(cp.status());
      if (cp->has_value() && !(*cp)->empty()) {
        auto bytes = Base64Decode(**cp);
        if (!bytes.ok()) {
          return fail(Status::Corruption("checkpoint " + s.key + " is not a base64 replay id: \"" +
                                         **cp + "\""));
        }
        s.position = *bytes;
      }
      loaded = true;
      log->info("{}: subscribing from {}", s.topic,
                s.position ? "replay id " + **cp : PresetName(s.preset));
    }
    bool delivered = false;
    Status st = SubscribeOnce(s, ctx, *token, &delivered);
    if (stopping_ || ctx.stopping()) break;
    if (delivered) attempt = 0;
    if (st.code() == StatusCode::kUnauthenticated) {
      c.auth_refreshes++;
      log->info("{}: token rejected; re-authenticating", s.topic);
      auto fresh = tokens_->Refresh(token->token);
      if (!fresh.ok()) {
        c.auth_failures++;
        ctx.SetHealth("auth failing for " + options_.name + ": " + fresh.status().message());
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
      gap.checkpoint = {s.key, ""};  // no position: a restart uses the fallback preset
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
      ctx.SetHealth(st.message());
      return fail(st);
    }
    if (!wait(st.ok() ? std::string("stream closed by the server") : st.message())) break;
  }
}

Status PubSubSource::SubscribeOnce(Stream& s, SourceContext& ctx,
                                   const salesforce::AccessToken& token, bool* delivered) {
  Counters& c = *counters_[s.index];
  grpc::ClientContext gctx;
  PubSubClient::Authorize(&gctx, token);
  {
    std::lock_guard<std::mutex> l(s.mu);
    if (stopping_) return Status::Cancelled("stopping");
    s.active = &gctx;
    s.last_activity_ns = std::chrono::steady_clock::now().time_since_epoch().count();
  }
  auto stream = client_->stub().Subscribe(&gctx);
  const int n = std::clamp(options_.batch_size, 1, 100);
  eventbus::v1::FetchRequest first;
  first.set_topic_name(s.topic);
  if (s.position) {
    first.set_replay_preset(eventbus::v1::CUSTOM);
    first.set_replay_id(*s.position);
  } else {
    first.set_replay_preset(s.preset == Preset::kEarliest ? eventbus::v1::EARLIEST
                                                          : eventbus::v1::LATEST);
  }
  first.set_num_requested(n);
  int64_t outstanding = n;
  c.credits_outstanding = outstanding;
  bool healthy_reported = false;
  bool ok = stream->Write(first);
  eventbus::v1::FetchResponse resp;
  while (ok && stream->Read(&resp)) {
    s.last_activity_ns = std::chrono::steady_clock::now().time_since_epoch().count();
    if (!healthy_reported) {
      ctx.SetHealth("");
      healthy_reported = true;
    }
    *delivered = true;
    outstanding = resp.pending_num_requested();
    for (const auto& ce : resp.events()) {
      Entry e;
      std::string replay_b64 = Base64Encode(ce.replay_id());
      auto schema = client_->Schema(ce.event().schema_id());
      Status mapped;
      if (!schema.ok()) {
        if (schema.status().code() == StatusCode::kUnavailable ||
            schema.status().code() == StatusCode::kUnauthenticated) {
          gctx.TryCancel();  // transient: resubscribe from the last position; nothing skipped
          stream->Finish();
          std::lock_guard<std::mutex> l(s.mu);
          s.active = nullptr;
          return schema.status();
        }
        mapped = schema.status();
      } else {
        mapped = s.mapper->Map(ce, **schema, &e);
      }
      if (!mapped.ok()) {
        c.dead_letters++;
        log::Get("source.pubsub")
            ->warn("{}: event at replay id {} cannot be decoded ({}); dead-lettered", s.topic,
                   replay_b64, mapped.message());
        DeadLetter(s.topic, replay_b64, ce.event().schema_id(), mapped.message(),
                   ce.event().payload());
        e = Entry();
        e.checkpoint_only = true;
        e.checkpoint = {s.key, replay_b64};
      } else {
        if (e.timestamp_ns == 0) e.timestamp_ns = ctx.clock().NowUnixNanos();
        std::string_view ct = e.Metadata(meta::kChangeType);
        if (ct.rfind("GAP_", 0) == 0) c.gap_events++;
        c.events++;
      }
      s.in_emit = true;
      bool accepted = ctx.Emit(std::move(e));
      s.in_emit = false;
      s.last_activity_ns = std::chrono::steady_clock::now().time_since_epoch().count();
      if (!accepted) {
        ok = false;
        break;
      }
      s.position = ce.replay_id();
    }
    if (!ok) break;
    if (resp.events_size() == 0 && !resp.latest_replay_id().empty() &&
        (!s.position || *s.position != resp.latest_replay_id())) {
      c.keepalives++;
      Entry cp;
      cp.checkpoint_only = true;
      cp.checkpoint = {s.key, Base64Encode(resp.latest_replay_id())};
      if (!ctx.Emit(std::move(cp))) break;
      s.position = resp.latest_replay_id();
    }
    if (outstanding <= n / 2) {
      eventbus::v1::FetchRequest more;
      more.set_num_requested(static_cast<int>(n - outstanding));
      if (!stream->Write(more)) break;
      outstanding = n;
    }
    c.credits_outstanding = outstanding;
  }
  if (!ok || stopping_ || ctx.stopping()) gctx.TryCancel();
  grpc::Status st = stream->Finish();
  {
    std::lock_guard<std::mutex> l(s.mu);
    s.active = nullptr;
  }
  c.credits_outstanding = 0;
  return FromGrpc(st, gctx, "Subscribe " + s.topic);
}

std::vector<MetricSample> PubSubSource::Metrics() const {
  std::vector<MetricSample> out;
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
     .description = "topics, e.g. /data/AccountChangeEvent",
     .required = true,
     .example = "[/data/AccountChangeEvent, /event/LoginEventStream]"},
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
  if (o.topics.empty())
    return Status::InvalidArgument(n.PathOf("topics") + ": expected at least one topic");
  for (const auto& t : o.topics) {
    if (t.rfind("/data/", 0) != 0 && t.rfind("/event/", 0) != 0) {
      return Status::InvalidArgument(
          n.PathOf("topics") + ": \"" + t +
          "\" is not a topic like /data/AccountChangeEvent or /event/Name__e");
    }
  }
  o.org_name = n.GetString("org");
  o.client.endpoint = n.GetString("endpoint");
  o.client.plaintext = n.GetBool("plaintext");
  o.client.ca_file = n.GetString("ca_file");
  o.initial_preset = n.GetString("replay_preset") == "latest" ? Preset::kLatest : Preset::kEarliest;
  o.corrupted_fallback =
      n.GetString("corrupted_fallback") == "latest" ? Preset::kLatest : Preset::kEarliest;
  o.batch_size = static_cast<int>(n.GetInt("batch_size"));
  o.watchdog = n.GetDuration("watchdog");
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
