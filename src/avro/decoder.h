#pragma once

// Avro binary decoder compiled once per schema.
//
// Decoder::Create() walks the schema graph once and flattens it into an array of
// small nodes (op code, child indexes, pre-rendered JSON keys and enum symbols).
// Decoding interprets that array: no name lookups, no maps, no per-field
// allocation in DecodeToJson (it appends to the caller's buffer, which keeps its
// capacity between calls).
//
// Malformed input (truncation, trailing bytes, bad union/enum index, negative or
// oversized lengths, ints out of range, excessive nesting or item counts) returns
// kInvalidArgument; it never crashes and never allocates more than the payload
// size justifies (plus a fixed budget of 64Ki zero-byte items such as nulls).
//
// Thread safety: a Decoder is immutable after Create(); its const methods may run
// concurrently from many threads.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "avro/schema.h"
#include "avro/value.h"
#include "core/status.h"

namespace forcepipe::avro {

class Decoder {
 public:
  // Compiles `schema` (kept alive by the decoder).
  static Result<std::unique_ptr<Decoder>> Create(std::shared_ptr<const Schema> schema);

  const Schema& schema() const { return *schema_; }

  // Replaces *out with the JSON rendering of `payload` (one datum, no trailing bytes):
  // records -> objects in field order; unions -> the plain branch value (null or the
  // value, no {"type": value} wrapper); long/int -> JSON integers (exact, never via
  // double); float/double -> shortest round-trip numbers, NaN/Infinity/-Infinity as
  // strings; enums -> symbol strings; maps -> objects; bytes/fixed -> strings with one
  // code point per byte (U+0000..U+00FF, the Avro JSON convention); strings -> JSON
  // strings with control characters escaped and invalid UTF-8 bytes replaced by U+FFFD.
  // On error *out holds a partial rendering.
  Status DecodeToJson(std::string_view payload, std::string* out) const;

  // Decodes `payload` into a Value (unions kept as kUnion with their branch index).
  Result<Value> Decode(std::string_view payload) const;
  // Same, reusing the allocations already held by *out (strings, child vectors).
  // On error *out is left valid but with unspecified contents.
  Status DecodeInto(std::string_view payload, Value* out) const;

  // Internal plan node; public only so the .cc's helpers can name it.
  struct Node {
    uint8_t op;
    uint8_t null_branch;  // unions: index of "null" or 255
    uint32_t a;           // record/union: first entry in links_; array/map: item node;
                          // enum: first symbol in symbols_; fixed: size
    uint32_t n;           // record fields / union branches / enum symbols
    uint32_t min_bytes;   // smallest possible encoding of this node
  };
  struct Text {
    uint32_t offset;
    uint32_t size;
  };

 private:
  Decoder() = default;
  friend class DecoderCompiler;
  friend struct DecodeRun;

  std::shared_ptr<const Schema> schema_;
  std::vector<Node> nodes_;      // nodes_[0] is the root
  std::vector<uint32_t> links_;  // child node indexes (record fields, union branches)
  std::vector<Text> keys_;       // parallel to links_: `"name":` or `,"name":` for records
  std::vector<Text> null_keys_;  // parallel to links_: `"name":null` (record fields only)
  std::vector<Text> symbols_;    // enum symbols as JSON strings
  // Size of the last JSON output: reserved up front, so a fresh string is
  // not regrown several times per event. Relaxed: only a hint.
  mutable std::atomic<size_t> json_size_hint_{0};
  std::string text_;  // storage for keys_ and symbols_
};

}  // namespace forcepipe::avro
