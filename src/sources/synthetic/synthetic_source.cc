#include "sources/synthetic/synthetic_source.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <vector>

#include "core/log.h"

namespace forcepipe {

SyntheticSource::SyntheticSource(SyntheticOptions options) : options_(std::move(options)) {
  labels_ =
      std::make_shared<LabelSet>(LabelSet{{"source", "synthetic"}, {"event_type", "synthetic"}});
  size_t overhead = 60 + options_.name.size();
  pad_.assign(options_.entry_size > overhead ? options_.entry_size - overhead : 1, 'x');
}

std::string SyntheticSource::CheckpointKey(const std::string& name, int k) {
  return "synthetic:" + name + ":k" + std::to_string(k);
}

std::string SyntheticSource::EventId(const std::string& name, int k, int64_t seq) {
  return name + "-k" + std::to_string(k) + "-" + std::to_string(seq);
}

Result<int64_t> SyntheticSource::ParsePosition(std::string_view key, std::string_view value) {
  int64_t v = -1;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  // Digits only (from_chars takes a leading '-'), and room for the next one.
  if (value.empty() || value[0] == '-' || ec != std::errc() || end != value.data() + value.size() ||
      v == INT64_MAX) {
    return Status::InvalidArgument(
        "checkpoint " + std::string(key) + " holds \"" + std::string(value.substr(0, 64)) +
        (value.size() > 64 ? "...\"" : "\"") + ", not a sequence number (0 to " +
        std::to_string(INT64_MAX - 1) + ")");
  }
  return v;
}

Status SyntheticSource::CheckPosition(std::string_view key, std::string_view value) const {
  bool mine = false;
  for (int k = 0; k < options_.keys && !mine; ++k) mine = key == CheckpointKey(options_.name, k);
  if (!mine) {
    return Status::NotFound("source " + options_.name + " keeps its positions under " +
                            CheckpointKey(options_.name, 0) +
                            (options_.keys > 1
                                 ? " .. " + CheckpointKey(options_.name, options_.keys - 1)
                                 : std::string()) +
                            ", not " + std::string(key));
  }
  return ParsePosition(key, value).status();
}

int64_t SyntheticSource::QuotaForKey(int k) const {
  if (options_.max_events <= 0) return INT64_MAX;
  int64_t base = options_.max_events / options_.keys;
  return base + (k < options_.max_events % options_.keys ? 1 : 0);
}

Entry SyntheticSource::Make(int k, int64_t seq, int64_t now_ns) const {
  Entry e;
  std::string id = EventId(options_.name, k, seq);
  e.line.reserve(pad_.size() + 64);
  e.line += "{\"id\":\"";
  e.line += id;
  e.line += "\",\"key\":";
  e.line += std::to_string(k);
  e.line += ",\"seq\":";
  e.line += std::to_string(seq);
  e.line += ",\"pad\":\"";
  e.line += pad_;
  e.line += "\"}";
  e.timestamp_ns = options_.base_time_ms > 0
                       ? (options_.base_time_ms + (seq - 1) * options_.keys + k) * 1'000'000
                       : now_ns;
  e.labels = labels_;
  e.structured_metadata.push_back({std::string(meta::kEventId), id});
  e.objects.push_back({"SyntheticKey", options_.name + "-k" + std::to_string(k)});
  e.checkpoint = {CheckpointKey(options_.name, k), std::to_string(seq)};
  return e;
}

Status SyntheticSource::Run(SourceContext& ctx) {
  std::vector<int64_t> next(options_.keys, 1);
  for (int k = 0; k < options_.keys; ++k) {
    auto cp = ctx.LoadCheckpoint(CheckpointKey(options_.name, k));
    if (!cp.ok()) return cp.status().WithContext("loading checkpoint");
    if (cp->has_value()) {
      // An unreadable stored position is never a silent restart.
      auto v = ParsePosition(CheckpointKey(options_.name, k), **cp);
      if (!v.ok()) {
        return Status::Corruption(v.status().message() +
                                  "; set a valid position with `forcepipe state set`, or "
                                  "`forcepipe state delete` the key to start from 1");
      }
      next[k] = *v + 1;
    }
  }
  log::Get("source.synthetic")
      ->info("{}: starting at sequence {} ({} keys)", options_.name, next[0], options_.keys);

  const Clock& clock = ctx.clock();
  SteadyTime start = std::chrono::steady_clock::now();
  int64_t emitted = 0;
  int k = 0;
  int exhausted = 0;
  while (!ctx.stopping()) {
    if (options_.rate > 0) {
      // Pace against the steady clock: event n is due at start + n / rate.
      auto due = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                             std::chrono::duration<double>(emitted / options_.rate));
      auto now = std::chrono::steady_clock::now();
      if (due > now && !ctx.WaitFor(due - now)) break;
    }
    // Round-robin over keys that still have quota.
    int tries = 0;
    while (next[k] > QuotaForKey(k) && tries < options_.keys) {
      k = (k + 1) % options_.keys;
      ++tries;
    }
    if (tries == options_.keys) {
      exhausted = 1;
      break;
    }
    int64_t seq = next[k];
    if (!ctx.Emit(Make(k, seq, clock.NowUnixNanos()))) break;
    ++next[k];
    ++emitted;
    if (options_.checkpoint_only_every > 0 && emitted % options_.checkpoint_only_every == 0) {
      Entry cp;
      cp.checkpoint_only = true;
      cp.checkpoint = {CheckpointKey(options_.name, k), std::to_string(seq)};
      if (!ctx.Emit(std::move(cp))) break;
    }
    k = (k + 1) % options_.keys;
  }
  log::Get("source.synthetic")
      ->info("{}: {} after {} events", options_.name, exhausted ? "finished" : "stopped", emitted);
  return Status::Ok();
}

namespace {

const config::OptionTable kOptions = {
    {.key = "rate",
     .type = config::OptionType::kDouble,
     .default_value = "1000",
     .description = "events per second; 0 = as fast as the pipeline takes them",
     .min = 0,
     .max = 1e9},
    {.key = "keys",
     .type = config::OptionType::kInt,
     .default_value = "1",
     .description = "number of independent streams (checkpoint keys)",
     .min = 1,
     .max = 100000},
    {.key = "entry_size",
     .type = config::OptionType::kSize,
     .default_value = "200",
     .description = "approximate bytes per event line",
     .min = 64,
     .max = 16 << 20},
    {.key = "max_events",
     .type = config::OptionType::kInt,
     .default_value = "0",
     .description = "total events to produce (across restarts), then finish; 0 = unlimited",
     .min = 0},
    {.key = "checkpoint_only_every",
     .type = config::OptionType::kInt,
     .default_value = "0",
     .description = "emit a checkpoint-only entry after every N events; 0 = never",
     .min = 0},
    {.key = "base_time_ms",
     .type = config::OptionType::kInt,
     .default_value = "0",
     .description = "deterministic timestamps from this Unix time in ms; 0 = wall clock",
     .min = 0},
    {.key = "lane",
     .type = config::OptionType::kString,
     .default_value = "streaming",
     .description = "which lane the events travel in",
     .choices = {"streaming", "bulk"}},
};

}  // namespace

SourceFactory SyntheticSourceFactory() {
  SourceFactory f;
  f.kind = "synthetic";
  f.description = "deterministic generated events (demo, tests, benchmarks)";
  f.options = &kOptions;
  f.create = [](const config::Node& n,
                const FactoryContext& ctx) -> Result<std::unique_ptr<Source>> {
    SyntheticOptions o;
    o.name = ctx.name;
    o.rate = n.GetDouble("rate");
    o.keys = static_cast<int>(n.GetInt("keys"));
    o.entry_size = n.GetSize("entry_size");
    o.max_events = n.GetInt("max_events");
    o.checkpoint_only_every = n.GetInt("checkpoint_only_every");
    o.base_time_ms = n.GetInt("base_time_ms");
    o.lane = n.GetString("lane") == "bulk" ? LaneKind::kBulk : LaneKind::kStreaming;
    return std::unique_ptr<Source>(std::make_unique<SyntheticSource>(std::move(o)));
  };
  return f;
}

}  // namespace forcepipe
