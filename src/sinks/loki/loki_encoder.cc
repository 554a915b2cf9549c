#include "sinks/loki/loki_encoder.h"

#include <snappy.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>

#include "core/json_text.h"

namespace forcepipe::loki {
namespace {

// --- protobuf wire helpers -------------------------------------------------
// Tags: (field << 3) | wire type; all our tags fit in one byte.
constexpr uint8_t Tag(int field, int wire_type) { return uint8_t((field << 3) | wire_type); }
constexpr int kVarint = 0;
constexpr int kLen = 2;

inline size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

inline char* PutVarint(char* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = char(uint8_t(v) | 0x80);
    v >>= 7;
  }
  *p++ = char(v);
  return p;
}

inline size_t LenFieldSize(size_t len) { return 1 + VarintSize(len) + len; }

inline char* PutBytes(char* p, std::string_view s) {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

// A string field, omitted when empty (proto3 canonical form).
inline size_t StringFieldSize(std::string_view s) { return s.empty() ? 0 : LenFieldSize(s.size()); }
inline char* PutStringField(char* p, int field, std::string_view s) {
  if (s.empty()) return p;
  *p++ = char(Tag(field, kLen));
  p = PutVarint(p, s.size());
  return PutBytes(p, s);
}

struct SplitTime {
  int64_t seconds;
  int32_t nanos;
};
inline SplitTime Split(int64_t ns) {
  int64_t s = ns / 1'000'000'000;
  int64_t r = ns % 1'000'000'000;
  if (r < 0) {  // google.protobuf.Timestamp: nanos is always in [0, 1e9)
    r += 1'000'000'000;
    --s;
  }
  return {s, int32_t(r)};
}

inline size_t TimestampMsgSize(SplitTime t) {
  size_t n = 0;
  if (t.seconds != 0) n += 1 + VarintSize(uint64_t(t.seconds));
  if (t.nanos != 0) n += 1 + VarintSize(uint64_t(t.nanos));
  return n;
}

inline size_t PairMsgSize(const Label& l) {
  return StringFieldSize(l.name) + StringFieldSize(l.value);
}

inline char* PutPair(char* p, const Label& l) {
  *p++ = char(Tag(3, kLen));
  p = PutVarint(p, PairMsgSize(l));
  p = PutStringField(p, 1, l.name);
  return PutStringField(p, 2, l.value);
}

// --- JSON helpers ------------------------------------------------------------
// Appends `s` as JSON string content. Invalid UTF-8 becomes U+FFFD so the body
// is always valid JSON.
void AppendJsonChars(std::string* out, std::string_view s) { json::AppendEscaped(out, s); }

void AppendJsonString(std::string* out, std::string_view s) {
  out->push_back('"');
  AppendJsonChars(out, s);
  out->push_back('"');
}

// Parses a rendered label set {a="b", c="d"} (our own output) into JSON
// members "a":"b","c":"d".
void AppendLabelsAsJson(std::string* out, std::string_view labels) {
  size_t i = 1;  // past '{'
  bool first = true;
  std::string value;
  while (i < labels.size() && labels[i] != '}') {
    if (labels[i] == ',' || labels[i] == ' ') {
      ++i;
      continue;
    }
    size_t eq = labels.find('=', i);
    std::string_view name = labels.substr(i, eq - i);
    i = eq + 2;  // past ="
    value.clear();
    while (i < labels.size() && labels[i] != '"') {
      if (labels[i] == '\\' && i + 1 < labels.size()) {
        ++i;
        value.push_back(labels[i] == 'n' ? '\n' : labels[i]);
      } else {
        value.push_back(labels[i]);
      }
      ++i;
    }
    ++i;  // closing quote
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(out, name);
    out->push_back(':');
    AppendJsonString(out, value);
  }
}

}  // namespace

CappedLine CapLine(std::string_view line, size_t max_bytes) {
  if (line.size() <= max_bytes) return {line, false};
  size_t cut = max_bytes - kTruncationMarker.size();
  // Back off over continuation bytes so the cut lands on a sequence start.
  size_t back = 0;
  while (cut > 0 && back < 3 && (uint8_t(line[cut]) & 0xC0) == 0x80) {
    --cut;
    ++back;
  }
  return {line.substr(0, cut), true};
}

// --- BatchPlan -----------------------------------------------------------------

void BatchPlan::Build(const Batch& batch, const LabelPolicy& policy, size_t max_line_bytes) {
  streams_.clear();
  sets_.clear();
  set_by_ptr_.clear();
  stream_by_labels_.clear();
  set_of_.resize(batch.entries.size());
  truncated_lines_ = 0;
  const LabelSet* last_ptr = nullptr;
  uint32_t last_set = 0;
  for (size_t i = 0; i < batch.entries.size(); ++i) {
    const Entry& e = batch.entries[i];
    if (e.line.size() > max_line_bytes) ++truncated_lines_;
    const LabelSet* ptr = e.labels.get();
    if (i == 0 || ptr != last_ptr) {
      last_ptr = ptr;
      last_set = FindOrResolve(ptr, policy);
    }
    set_of_[i] = last_set;
  }
}

uint32_t BatchPlan::FindOrResolve(const LabelSet* labels, const LabelPolicy& policy) {
  auto it = set_by_ptr_.find(labels);
  if (it != set_by_ptr_.end()) return it->second;
  // Sources usually share one LabelSet per stream; when they do not, an equal
  // set resolved before is found by content without allocating.
  if (labels && sets_.size() <= kContentScanLimit) {
    for (uint32_t s = 0; s < sets_.size(); ++s) {
      if (sets_[s].labels && *sets_[s].labels == *labels) return s;
    }
  }
  policy.Resolve(labels, &scratch_);
  auto [sit, inserted] = stream_by_labels_.try_emplace(scratch_.labels, uint32_t(streams_.size()));
  if (inserted) streams_.push_back({scratch_.labels, scratch_.tenant});
  sets_.push_back({labels, sit->second, scratch_.extra_metadata});
  uint32_t set = uint32_t(sets_.size() - 1);
  set_by_ptr_.emplace(labels, set);
  return set;
}

// --- Encoder -------------------------------------------------------------------

Encoder::Encoder(EncoderOptions options) : options_(options) {}

size_t Encoder::BuildSuffix(const Batch& batch, const BatchPlan& plan, uint32_t index) {
  suffix_.clear();
  if (!options_.metadata_in_line) return options_.max_line_bytes;
  const Entry& e = batch.entries[index];
  const auto& extra = plan.extra_metadata_of(index);
  if (e.structured_metadata.empty() && extra.empty()) return options_.max_line_bytes;
  suffix_.append(" metadata={");
  bool first = true;
  auto add = [&](const Label& l) {
    if (!first) suffix_.push_back(',');
    first = false;
    AppendJsonString(&suffix_, l.name);
    suffix_.push_back(':');
    AppendJsonString(&suffix_, l.value);
  };
  for (const Label& l : e.structured_metadata) add(l);
  for (const Label* l : extra) add(*l);
  suffix_.push_back('}');
  // Keep at least a short line prefix; CapLine needs room for its marker.
  constexpr size_t kMinLine = 64;
  return options_.max_line_bytes > suffix_.size() + kMinLine
             ? options_.max_line_bytes - suffix_.size()
             : kMinLine;
}

size_t Encoder::LineSize(const Batch& batch, const BatchPlan& plan, uint32_t index) {
  size_t cap = BuildSuffix(batch, plan, index);
  return CapLine(batch.entries[index].line, cap).size() + suffix_.size();
}

Encoder::~Encoder() {
  if (zs_) {
    deflateEnd(zs_);
    delete zs_;
  }
}

void Encoder::SortKeys(const Batch& batch, const BatchPlan& plan,
                       std::span<const uint32_t> indexes) {
  keys_.clear();
  keys_.reserve(indexes.size());
  for (uint32_t idx : indexes) {
    keys_.push_back({plan.stream_of(idx), idx, batch.entries[idx].timestamp_ns, 0});
  }
  std::sort(keys_.begin(), keys_.end(), [](const Key& a, const Key& b) {
    if (a.stream != b.stream) return a.stream < b.stream;
    if (a.ts != b.ts) return a.ts < b.ts;
    return a.index < b.index;
  });
}

Encoder::Body Encoder::Encode(const Batch& batch, const BatchPlan& plan,
                              std::span<const uint32_t> indexes) {
  SortKeys(batch, plan, indexes);
  Body body;
  if (options_.encoding == Encoding::kProtobuf) {
    EncodeProtobuf(batch, plan);
    compressed_.resize(snappy::MaxCompressedLength(raw_.size()));
    size_t n = 0;
    snappy::RawCompress(raw_.data(), raw_.size(), compressed_.data(), &n);
    compressed_.resize(n);
    body.data = compressed_;
    body.content_type = "application/x-protobuf";
  } else {
    EncodeJson(batch, plan);
    body.content_type = "application/json";
    if (options_.json_compression == Compression::kGzip) {
      Gzip();
      body.data = compressed_;
      body.content_encoding = "gzip";
    } else {
      body.data = raw_;
    }
  }
  body.uncompressed_size = raw_.size();
  return body;
}

void Encoder::EncodeProtobuf(const Batch& batch, const BatchPlan& plan) {
  // Pass 1: entry sizes, stream (run) sizes, total.
  run_sizes_.clear();
  size_t total = 0;
  for (size_t k = 0; k < keys_.size();) {
    uint32_t stream = keys_[k].stream;
    size_t entries = 0;
    for (; k < keys_.size() && keys_[k].stream == stream; ++k) {
      const Entry& e = batch.entries[keys_[k].index];
      size_t ts = TimestampMsgSize(Split(e.timestamp_ns));
      size_t n = LenFieldSize(ts);
      size_t cap = BuildSuffix(batch, plan, keys_[k].index);
      size_t line_len = CapLine(e.line, cap).size() + suffix_.size();
      if (line_len > 0) n += LenFieldSize(line_len);
      if (!options_.metadata_in_line) {
        for (const Label& l : e.structured_metadata) n += LenFieldSize(PairMsgSize(l));
        for (const Label* l : plan.extra_metadata_of(keys_[k].index)) {
          n += LenFieldSize(PairMsgSize(*l));
        }
      }
      keys_[k].size = uint32_t(n);
      entries += LenFieldSize(n);
    }
    size_t stream_size = StringFieldSize(plan.stream(stream).labels) + entries;
    run_sizes_.push_back(stream_size);
    total += LenFieldSize(stream_size);
  }

  // Pass 2: write.
  raw_.resize(total);
  char* p = raw_.data();
  size_t run = 0;
  for (size_t k = 0; k < keys_.size(); ++run) {
    uint32_t stream = keys_[k].stream;
    *p++ = char(Tag(1, kLen));  // PushRequest.streams
    p = PutVarint(p, run_sizes_[run]);
    p = PutStringField(p, 1, plan.stream(stream).labels);  // StreamAdapter.labels
    for (; k < keys_.size() && keys_[k].stream == stream; ++k) {
      const Entry& e = batch.entries[keys_[k].index];
      *p++ = char(Tag(2, kLen));  // StreamAdapter.entries
      p = PutVarint(p, keys_[k].size);
      SplitTime t = Split(e.timestamp_ns);
      *p++ = char(Tag(1, kLen));  // EntryAdapter.timestamp
      p = PutVarint(p, TimestampMsgSize(t));
      if (t.seconds != 0) {
        *p++ = char(Tag(1, kVarint));
        p = PutVarint(p, uint64_t(t.seconds));
      }
      if (t.nanos != 0) {
        *p++ = char(Tag(2, kVarint));
        p = PutVarint(p, uint64_t(t.nanos));
      }
      CappedLine line = CapLine(e.line, BuildSuffix(batch, plan, keys_[k].index));
      if (line.size() + suffix_.size() > 0) {
        *p++ = char(Tag(2, kLen));  // EntryAdapter.line
        p = PutVarint(p, line.size() + suffix_.size());
        p = PutBytes(p, line.prefix);
        if (line.truncated) p = PutBytes(p, kTruncationMarker);
        p = PutBytes(p, suffix_);
      }
      if (!options_.metadata_in_line) {
        for (const Label& l : e.structured_metadata) p = PutPair(p, l);
        for (const Label* l : plan.extra_metadata_of(keys_[k].index)) p = PutPair(p, *l);
      }
    }
  }
}

void Encoder::EncodeJson(const Batch& batch, const BatchPlan& plan) {
  raw_.clear();
  raw_.append("{\"streams\":[");
  char num[24];
  for (size_t k = 0; k < keys_.size();) {
    uint32_t stream = keys_[k].stream;
    if (k > 0) raw_.push_back(',');
    raw_.append("{\"stream\":{");
    AppendLabelsAsJson(&raw_, plan.stream(stream).labels);
    raw_.append("},\"values\":[");
    bool first = true;
    for (; k < keys_.size() && keys_[k].stream == stream; ++k) {
      const Entry& e = batch.entries[keys_[k].index];
      if (!first) raw_.push_back(',');
      first = false;
      raw_.append("[\"");
      int n = snprintf(num, sizeof(num), "%lld", static_cast<long long>(e.timestamp_ns));
      raw_.append(num, size_t(n));
      raw_.append("\",\"");
      CappedLine line = CapLine(e.line, BuildSuffix(batch, plan, keys_[k].index));
      AppendJsonChars(&raw_, line.prefix);
      if (line.truncated) raw_.append(kTruncationMarker);
      AppendJsonChars(&raw_, suffix_);
      raw_.push_back('"');
      const auto& extra = plan.extra_metadata_of(keys_[k].index);
      if (!options_.metadata_in_line && (!e.structured_metadata.empty() || !extra.empty())) {
        raw_.append(",{");
        bool first_md = true;
        auto add = [&](const Label& l) {
          if (!first_md) raw_.push_back(',');
          first_md = false;
          AppendJsonString(&raw_, l.name);
          raw_.push_back(':');
          AppendJsonString(&raw_, l.value);
        };
        for (const Label& l : e.structured_metadata) add(l);
        for (const Label* l : extra) add(*l);
        raw_.push_back('}');
      }
      raw_.push_back(']');
    }
    raw_.append("]}");
  }
  raw_.append("]}");
}

void Encoder::Gzip() {
  if (!zs_) {
    zs_ = new z_stream{};
    // windowBits 15 + 16: a gzip wrapper. Level 1: this is the debugging path.
    deflateInit2(zs_, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  } else {
    deflateReset(zs_);
  }
  compressed_.resize(deflateBound(zs_, raw_.size()));
  zs_->next_in = reinterpret_cast<Bytef*>(raw_.data());
  zs_->avail_in = uInt(raw_.size());
  zs_->next_out = reinterpret_cast<Bytef*>(compressed_.data());
  zs_->avail_out = uInt(compressed_.size());
  deflate(zs_, Z_FINISH);
  compressed_.resize(compressed_.size() - zs_->avail_out);
}

}  // namespace forcepipe::loki
