#pragma once

// Encodes a Batch (or a subset of it) into a Loki push body.
//
// Protobuf (default): the logproto.PushRequest wire format written by hand into
// a reused buffer, then snappy *block* compression into another reused buffer.
// After warm-up, encoding allocates nothing per entry (see README.md for why we
// do not build generated message objects; tests decode our bytes with the
// generated classes from proto/push.proto).
// JSON (debugging): {"streams":[{"stream":{..},"values":[["ns","line",{..}]]}]},
// optionally gzip-compressed.
//
// Entries are grouped into streams by their resolved label set and sorted by
// timestamp within a stream (ties keep batch order), so the same entries always
// produce the same bytes.
//
// Thread safety: a BatchPlan or an Encoder is used by one thread at a time.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/entry.h"
#include "sinks/loki/loki_labels.h"

typedef struct z_stream_s z_stream;

namespace forcepipe::loki {

enum class Encoding { kProtobuf, kJson };
enum class Compression { kNone, kGzip };

inline constexpr size_t kDefaultMaxLineBytes = 256 * 1024;
// Appended to a capped line. Counted in max_line_bytes.
inline constexpr std::string_view kTruncationMarker = "...[truncated]";

// A line as sent: `prefix`, plus kTruncationMarker when `truncated`.
struct CappedLine {
  std::string_view prefix;
  bool truncated = false;
  size_t size() const { return prefix.size() + (truncated ? kTruncationMarker.size() : 0); }
};

// Caps `line` to at most `max_bytes` (marker included) without splitting a
// UTF-8 sequence. REQUIRES: max_bytes > kTruncationMarker.size() + 3.
CappedLine CapLine(std::string_view line, size_t max_bytes);

// The streams of one batch: every entry's resolved labels and tenant. Built
// once per Push; reused across pushes to keep its capacity.
class BatchPlan {
 public:
  struct Stream {
    std::string labels;
    std::string tenant;
  };

  // REQUIRES: `batch` outlives the plan's use (extra metadata points into it).
  void Build(const Batch& batch, const LabelPolicy& policy, size_t max_line_bytes);

  size_t stream_count() const { return streams_.size(); }
  const Stream& stream(size_t i) const { return streams_[i]; }
  uint32_t stream_of(size_t entry) const { return sets_[set_of_[entry]].stream; }
  const std::vector<const Label*>& extra_metadata_of(size_t entry) const {
    return sets_[set_of_[entry]].extra;
  }
  // Lines of the batch longer than max_line_bytes.
  size_t truncated_lines() const { return truncated_lines_; }

 private:
  struct LabelSetInfo {
    const LabelSet* labels = nullptr;
    uint32_t stream = 0;
    std::vector<const Label*> extra;
  };
  // On a pointer miss, label sets equal in content to one already resolved are
  // found by comparison (no allocation) while there are at most this many.
  static constexpr size_t kContentScanLimit = 64;
  uint32_t FindOrResolve(const LabelSet* labels, const LabelPolicy& policy);
  std::vector<Stream> streams_;
  std::vector<LabelSetInfo> sets_;
  std::vector<uint32_t> set_of_;  // per entry
  std::unordered_map<const LabelSet*, uint32_t> set_by_ptr_;
  std::unordered_map<std::string, uint32_t> stream_by_labels_;
  ResolvedLabels scratch_;
  size_t truncated_lines_ = 0;
};

struct EncoderOptions {
  Encoding encoding = Encoding::kProtobuf;
  Compression json_compression = Compression::kNone;  // JSON only
  size_t max_line_bytes = kDefaultMaxLineBytes;
  // Degraded mode for a server that refuses structured metadata: no metadata
  // is sent; each line becomes `<line> metadata={"name":"value",...}` (a JSON
  // object, in the order the entry carries it), capped as a whole at
  // max_line_bytes (the line part is cut, the metadata kept).
  bool metadata_in_line = false;
};

class Encoder {
 public:
  explicit Encoder(EncoderOptions options);
  ~Encoder();
  Encoder(const Encoder&) = delete;
  Encoder& operator=(const Encoder&) = delete;

  struct Body {
    std::string_view data;              // valid until the next Encode
    std::string_view content_type;      // application/x-protobuf | application/json
    std::string_view content_encoding;  // "" or "gzip"
    size_t uncompressed_size = 0;       // serialized PushRequest / JSON bytes
  };

  // Encodes the entries of `batch` at `indexes` (any order, no duplicates).
  Body Encode(const Batch& batch, const BatchPlan& plan, std::span<const uint32_t> indexes);

  // Changes the line cap and metadata mode for the next Encode calls (the
  // sink learns both from the server). REQUIRES: max_line_bytes >= 64.
  void SetLineOptions(size_t max_line_bytes, bool metadata_in_line) {
    options_.max_line_bytes = max_line_bytes;
    options_.metadata_in_line = metadata_in_line;
  }
  const EncoderOptions& options() const { return options_; }

  // The length in bytes of entry `index`'s line as the next Encode sends it
  // (what Loki's "entry with length 'N'" names).
  size_t LineSize(const Batch& batch, const BatchPlan& plan, uint32_t index);

  // The serialized, uncompressed form of the last Encode (for tests).
  std::string_view last_uncompressed() const { return raw_; }

 private:
  struct Key {
    uint32_t stream;
    uint32_t index;
    int64_t ts;
    uint32_t size;  // protobuf: EntryAdapter message size
  };
  void SortKeys(const Batch& batch, const BatchPlan& plan, std::span<const uint32_t> indexes);
  void EncodeProtobuf(const Batch& batch, const BatchPlan& plan);
  void EncodeJson(const Batch& batch, const BatchPlan& plan);
  void Gzip();
  // metadata_in_line: builds entry `index`'s " metadata={...}" suffix into
  // suffix_ and returns the cap for the line part.
  size_t BuildSuffix(const Batch& batch, const BatchPlan& plan, uint32_t index);

  EncoderOptions options_;
  std::vector<Key> keys_;
  std::vector<size_t> run_sizes_;
  std::string raw_;
  std::string compressed_;
  std::string suffix_;
  z_stream* zs_ = nullptr;
};

}  // namespace forcepipe::loki
