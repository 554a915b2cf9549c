#include "avro/decoder.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <unordered_map>

#include "core/json_text.h"

namespace forcepipe::avro {
namespace {

enum Op : uint8_t {
  kOpNull,
  kOpBoolean,
  kOpInt,
  kOpLong,
  kOpFloat,
  kOpDouble,
  kOpBytes,
  kOpString,
  kOpFixed,
  kOpEnum,
  kOpRecord,
  kOpArray,
  kOpMap,
  kOpUnion,
};

constexpr int kMaxDepth = 512;
constexpr int64_t kZeroByteItemBudget = int64_t{1} << 16;
constexpr uint32_t kMinBytesCap = 1u << 20;

void AppendJsonUtf8(const unsigned char* p, size_t n, std::string* out) {
  json::AppendString(out, std::string_view(reinterpret_cast<const char*>(p), n));
}

// bytes/fixed: one code point per byte.
void AppendJsonLatin1(const unsigned char* p, size_t n, std::string* out) {
  out->push_back('"');
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = p[i];
    if (c >= 0x80) {
      const char buf[2] = {static_cast<char>(0xC0 | (c >> 6)),
                           static_cast<char>(0x80 | (c & 0x3F))};
      out->append(buf, 2);
    } else if (c < 0x20 || c == '"' || c == '\\') {
      json::AppendEscapedByte(out, c);
    } else {
      out->push_back(static_cast<char>(c));
    }
  }
  out->push_back('"');
}

template <typename T>
void AppendFloating(T v, std::string* out) {
  if (std::isnan(v)) {
    out->append("\"NaN\"");
  } else if (std::isinf(v)) {
    out->append(v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
  } else if (v == 0 && std::signbit(v)) {
    out->append("-0.0");  // "-0" would read back as the integer 0
  } else {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out->append(buf, r.ptr);
  }
}

void AppendInteger(int64_t v, std::string* out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, r.ptr);
}

Status Truncated() { return Status::InvalidArgument("avro decode: truncated payload"); }

}  // namespace

// Flattens a schema graph into Decoder::nodes_.
class DecoderCompiler {
 public:
  explicit DecoderCompiler(Decoder* d) : d_(d) {}

  uint32_t Compile(const Schema& s) {
    bool named = s.type() == Type::kRecord;  // only records can recurse into themselves
    if (named) {
      auto it = memo_.find(&s);
      if (it != memo_.end()) return it->second;
    }
    uint32_t idx = static_cast<uint32_t>(d_->nodes_.size());
    d_->nodes_.push_back(Decoder::Node{kOpNull, 255, 0, 0, 0});
    if (named) memo_.emplace(&s, idx);
    Decoder::Node node{kOpNull, 255, 0, 0, 0};
    switch (s.type()) {
      case Type::kNull:
        node.op = kOpNull;
        break;
      case Type::kBoolean:
        node.op = kOpBoolean;
        node.min_bytes = 1;
        break;
      case Type::kInt:
        node.op = kOpInt;
        node.min_bytes = 1;
        break;
      case Type::kLong:
        node.op = kOpLong;
        node.min_bytes = 1;
        break;
      case Type::kFloat:
        node.op = kOpFloat;
        node.min_bytes = 4;
        break;
      case Type::kDouble:
        node.op = kOpDouble;
        node.min_bytes = 8;
        break;
      case Type::kBytes:
        node.op = kOpBytes;
        node.min_bytes = 1;
        break;
      case Type::kString:
        node.op = kOpString;
        node.min_bytes = 1;
        break;
      case Type::kFixed:
        node.op = kOpFixed;
        node.a = static_cast<uint32_t>(s.size());
        node.min_bytes = static_cast<uint32_t>(std::min<uint64_t>(s.size(), kMinBytesCap));
        break;
      case Type::kEnum:
        node.op = kOpEnum;
        node.min_bytes = 1;
        node.a = static_cast<uint32_t>(d_->symbols_.size());
        node.n = static_cast<uint32_t>(s.symbols().size());
        for (const std::string& sym : s.symbols()) {
          std::string json;
          AppendJsonUtf8(reinterpret_cast<const unsigned char*>(sym.data()), sym.size(), &json);
          d_->symbols_.push_back(AddText(json));
        }
        break;
      case Type::kRecord: {
        node.op = kOpRecord;
        std::vector<uint32_t> kids;
        uint64_t min = 0;
        for (const Field& f : s.fields()) {
          uint32_t k = Compile(*f.type);
          kids.push_back(k);
          min += d_->nodes_[k].min_bytes;  // 0 for a record still being compiled
        }
        node.min_bytes = static_cast<uint32_t>(std::min<uint64_t>(min, kMinBytesCap));
        node.a = static_cast<uint32_t>(d_->links_.size());
        node.n = static_cast<uint32_t>(kids.size());
        for (size_t i = 0; i < kids.size(); ++i) {
          std::string key = i == 0 ? "" : ",";
          const std::string& name = s.fields()[i].name;
          AppendJsonUtf8(reinterpret_cast<const unsigned char*>(name.data()), name.size(), &key);
          key.push_back(':');
          d_->links_.push_back(kids[i]);
          d_->keys_.push_back(AddText(key));
          d_->null_keys_.push_back(AddText(key + "null"));
        }
        break;
      }
      case Type::kArray:
      case Type::kMap:
        node.op = s.type() == Type::kArray ? kOpArray : kOpMap;
        node.min_bytes = 1;
        node.a = Compile(s.items());
        break;
      case Type::kUnion: {
        node.op = kOpUnion;
        node.min_bytes = 1;
        std::vector<uint32_t> kids;
        for (const Schema* b : s.branches()) kids.push_back(Compile(*b));
        node.a = static_cast<uint32_t>(d_->links_.size());
        node.n = static_cast<uint32_t>(kids.size());
        if (s.null_branch() >= 0 && s.null_branch() < 255) {
          node.null_branch = static_cast<uint8_t>(s.null_branch());
        }
        for (uint32_t k : kids) {
          d_->links_.push_back(k);
          d_->keys_.push_back(Decoder::Text{0, 0});
          d_->null_keys_.push_back(Decoder::Text{0, 0});
        }
        break;
      }
    }
    d_->nodes_[idx] = node;
    return idx;
  }

 private:
  Decoder::Text AddText(const std::string& s) {
    Decoder::Text t{static_cast<uint32_t>(d_->text_.size()), static_cast<uint32_t>(s.size())};
    d_->text_.append(s);
    return t;
  }

  Decoder* d_;
  std::unordered_map<const Schema*, uint32_t> memo_;
};

// State of one decode call.
struct DecodeRun {
  const Decoder& d;
  const unsigned char* p;
  const unsigned char* end;
  int depth = 0;
  int64_t zero_budget = kZeroByteItemBudget;

  size_t remaining() const { return static_cast<size_t>(end - p); }

  inline Status ReadLong(int64_t* v) {
    if (p != end && *p < 0x80) {  // one-byte varint: union indexes, small ints, lengths
      uint64_t z = *p++;
      *v = static_cast<int64_t>((z >> 1) ^ (~(z & 1) + 1));
      return Status::Ok();
    }
    return ReadLongSlow(v);
  }

  Status ReadLongSlow(int64_t* v) {
    uint64_t result = 0;
    int shift = 0;
    while (true) {
      if (p == end) return Truncated();
      uint8_t b = *p++;
      if (shift == 63 && b > 1) return Status::InvalidArgument("avro decode: varint overflow");
      result |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) break;
      shift += 7;
      if (shift > 63) return Status::InvalidArgument("avro decode: varint too long");
    }
    *v = static_cast<int64_t>((result >> 1) ^ (~(result & 1) + 1));
    return Status::Ok();
  }

  inline Status ReadInt(int64_t* v) {
    FP_RETURN_IF_ERROR(ReadLong(v));
    if (*v < std::numeric_limits<int32_t>::min() || *v > std::numeric_limits<int32_t>::max()) {
      return Status::InvalidArgument("avro decode: int out of range");
    }
    return Status::Ok();
  }

  inline Status ReadLength(size_t* len) {
    int64_t v;
    FP_RETURN_IF_ERROR(ReadLong(&v));
    if (v < 0) return Status::InvalidArgument("avro decode: negative length");
    if (static_cast<uint64_t>(v) > remaining()) return Truncated();
    *len = static_cast<size_t>(v);
    return Status::Ok();
  }

  // Reads an array/map block header. *count = 0 ends the sequence.
  Status ReadBlockCount(uint32_t item_min_bytes, int64_t* count) {
    FP_RETURN_IF_ERROR(ReadLong(count));
    if (*count < 0) {
      if (*count == std::numeric_limits<int64_t>::min()) {
        return Status::InvalidArgument("avro decode: bad block count");
      }
      *count = -*count;
      int64_t block_bytes;
      FP_RETURN_IF_ERROR(ReadLong(&block_bytes));
      if (block_bytes < 0 || static_cast<uint64_t>(block_bytes) > remaining()) {
        return Status::InvalidArgument("avro decode: bad block size");
      }
    }
    if (item_min_bytes > 0) {
      if (static_cast<uint64_t>(*count) > remaining() / item_min_bytes) {
        return Status::InvalidArgument("avro decode: block count exceeds payload");
      }
    } else {
      zero_budget -= *count;
      if (*count > kZeroByteItemBudget || zero_budget < 0) {
        return Status::InvalidArgument("avro decode: too many items");
      }
    }
    return Status::Ok();
  }

  Status Enter() {
    if (++depth > kMaxDepth) return Status::InvalidArgument("avro decode: nesting too deep");
    return Status::Ok();
  }

  std::string_view Text(const Decoder::Text& t) const {
    return std::string_view(d.text_.data() + t.offset, t.size);
  }

  Status ToJson(uint32_t idx, std::string* out) {
    const Decoder::Node& n = d.nodes_[idx];
    switch (n.op) {
      case kOpNull:
        out->append("null");
        return Status::Ok();
      case kOpBoolean: {
        if (p == end) return Truncated();
        uint8_t b = *p++;
        if (b > 1) return Status::InvalidArgument("avro decode: bad boolean");
        out->append(b ? "true" : "false");
        return Status::Ok();
      }
      case kOpInt: {
        int64_t v;
        FP_RETURN_IF_ERROR(ReadInt(&v));
        AppendInteger(v, out);
        return Status::Ok();
      }
      case kOpLong: {
        int64_t v;
        FP_RETURN_IF_ERROR(ReadLong(&v));
        AppendInteger(v, out);
        return Status::Ok();
      }
      case kOpFloat: {
        if (remaining() < 4) return Truncated();
        float f;
        std::memcpy(&f, p, 4);
        p += 4;
        AppendFloating(f, out);
        return Status::Ok();
      }
      case kOpDouble: {
        if (remaining() < 8) return Truncated();
        double v;
        std::memcpy(&v, p, 8);
        p += 8;
        AppendFloating(v, out);
        return Status::Ok();
      }
      case kOpString:
      case kOpBytes: {
        size_t len;
        FP_RETURN_IF_ERROR(ReadLength(&len));
        if (n.op == kOpString) {
          AppendJsonUtf8(p, len, out);
        } else {
          AppendJsonLatin1(p, len, out);
        }
        p += len;
        return Status::Ok();
      }
      case kOpFixed:
        if (remaining() < n.a) return Truncated();
        AppendJsonLatin1(p, n.a, out);
        p += n.a;
        return Status::Ok();
      case kOpEnum: {
        int64_t v;
        FP_RETURN_IF_ERROR(ReadInt(&v));
        if (v < 0 || v >= n.n) return Status::InvalidArgument("avro decode: bad enum index");
        out->append(Text(d.symbols_[n.a + v]));
        return Status::Ok();
      }
      case kOpRecord: {
        FP_RETURN_IF_ERROR(Enter());
        out->push_back('{');
        for (uint32_t i = 0; i < n.n; ++i) {
          const uint32_t child = d.links_[n.a + i];
          const Decoder::Node& c = d.nodes_[child];
          if (c.op == kOpUnion) {
            // Inlined: most Salesforce fields are ["null", T] and most are null.
            int64_t b;
            FP_RETURN_IF_ERROR(ReadLong(&b));
            if (b < 0 || b >= c.n) return Status::InvalidArgument("avro decode: bad union index");
            if (b == c.null_branch) {
              out->append(Text(d.null_keys_[n.a + i]));
            } else {
              out->append(Text(d.keys_[n.a + i]));
              FP_RETURN_IF_ERROR(ToJson(d.links_[c.a + b], out));
            }
            continue;
          }
          out->append(Text(d.keys_[n.a + i]));
          FP_RETURN_IF_ERROR(ToJson(child, out));
        }
        out->push_back('}');
        --depth;
        return Status::Ok();
      }
      case kOpArray:
      case kOpMap: {
        FP_RETURN_IF_ERROR(Enter());
        const bool is_map = n.op == kOpMap;
        out->push_back(is_map ? '{' : '[');
        bool first = true;
        uint32_t item_min = d.nodes_[n.a].min_bytes + (is_map ? 1 : 0);
        while (true) {
          int64_t count;
          FP_RETURN_IF_ERROR(ReadBlockCount(item_min, &count));
          if (count == 0) break;
          for (int64_t i = 0; i < count; ++i) {
            if (!first) out->push_back(',');
            first = false;
            if (is_map) {
              size_t len;
              FP_RETURN_IF_ERROR(ReadLength(&len));
              AppendJsonUtf8(p, len, out);
              p += len;
              out->push_back(':');
            }
            FP_RETURN_IF_ERROR(ToJson(n.a, out));
          }
        }
        out->push_back(is_map ? '}' : ']');
        --depth;
        return Status::Ok();
      }
      case kOpUnion: {
        int64_t b;
        FP_RETURN_IF_ERROR(ReadLong(&b));
        if (b < 0 || b >= n.n) return Status::InvalidArgument("avro decode: bad union index");
        if (b == n.null_branch) {
          out->append("null");
          return Status::Ok();
        }
        return ToJson(d.links_[n.a + b], out);
      }
    }
    return Status::Internal("avro decode: bad plan");
  }

  Status ToValue(uint32_t idx, Value* v) {
    const Decoder::Node& n = d.nodes_[idx];
    switch (n.op) {
      case kOpNull:
        v->set_type(Type::kNull);
        return Status::Ok();
      case kOpBoolean: {
        if (p == end) return Truncated();
        uint8_t b = *p++;
        if (b > 1) return Status::InvalidArgument("avro decode: bad boolean");
        v->set_type(Type::kBoolean);
        v->set_long(b);
        return Status::Ok();
      }
      case kOpInt:
      case kOpLong: {
        int64_t x;
        if (n.op == kOpInt) {
          FP_RETURN_IF_ERROR(ReadInt(&x));
        } else {
          FP_RETURN_IF_ERROR(ReadLong(&x));
        }
        v->set_type(n.op == kOpInt ? Type::kInt : Type::kLong);
        v->set_long(x);
        return Status::Ok();
      }
      case kOpFloat: {
        if (remaining() < 4) return Truncated();
        float f;
        std::memcpy(&f, p, 4);
        p += 4;
        v->set_type(Type::kFloat);
        v->set_float(f);
        return Status::Ok();
      }
      case kOpDouble: {
        if (remaining() < 8) return Truncated();
        double x;
        std::memcpy(&x, p, 8);
        p += 8;
        v->set_type(Type::kDouble);
        v->set_double(x);
        return Status::Ok();
      }
      case kOpString:
      case kOpBytes: {
        size_t len;
        FP_RETURN_IF_ERROR(ReadLength(&len));
        v->set_type(n.op == kOpString ? Type::kString : Type::kBytes);
        v->mutable_str().assign(reinterpret_cast<const char*>(p), len);
        p += len;
        return Status::Ok();
      }
      case kOpFixed:
        if (remaining() < n.a) return Truncated();
        v->set_type(Type::kFixed);
        v->mutable_str().assign(reinterpret_cast<const char*>(p), n.a);
        p += n.a;
        return Status::Ok();
      case kOpEnum: {
        int64_t x;
        FP_RETURN_IF_ERROR(ReadInt(&x));
        if (x < 0 || x >= n.n) return Status::InvalidArgument("avro decode: bad enum index");
        v->set_type(Type::kEnum);
        v->set_long(x);
        return Status::Ok();
      }
      case kOpRecord: {
        FP_RETURN_IF_ERROR(Enter());
        v->set_type(Type::kRecord);
        std::vector<Value>& kids = v->mutable_children();
        kids.resize(n.n);
        for (uint32_t i = 0; i < n.n; ++i) {
          FP_RETURN_IF_ERROR(ToValue(d.links_[n.a + i], &kids[i]));
        }
        --depth;
        return Status::Ok();
      }
      case kOpArray:
      case kOpMap: {
        FP_RETURN_IF_ERROR(Enter());
        const bool is_map = n.op == kOpMap;
        v->set_type(is_map ? Type::kMap : Type::kArray);
        std::vector<Value>& kids = v->mutable_children();
        std::vector<std::string>& keys = v->mutable_map_keys();
        size_t used = 0;
        uint32_t item_min = d.nodes_[n.a].min_bytes + (is_map ? 1 : 0);
        while (true) {
          int64_t count;
          FP_RETURN_IF_ERROR(ReadBlockCount(item_min, &count));
          if (count == 0) break;
          for (int64_t i = 0; i < count; ++i, ++used) {
            if (kids.size() <= used) kids.emplace_back();
            if (is_map) {
              size_t len;
              FP_RETURN_IF_ERROR(ReadLength(&len));
              if (keys.size() <= used) keys.emplace_back();
              keys[used].assign(reinterpret_cast<const char*>(p), len);
              p += len;
            }
            FP_RETURN_IF_ERROR(ToValue(n.a, &kids[used]));
          }
        }
        kids.resize(used);
        keys.resize(is_map ? used : 0);
        --depth;
        return Status::Ok();
      }
      case kOpUnion: {
        int64_t b;
        FP_RETURN_IF_ERROR(ReadLong(&b));
        if (b < 0 || b >= n.n) return Status::InvalidArgument("avro decode: bad union index");
        FP_RETURN_IF_ERROR(Enter());
        v->set_type(Type::kUnion);
        v->set_long(b);
        std::vector<Value>& kids = v->mutable_children();
        kids.resize(1);
        FP_RETURN_IF_ERROR(ToValue(d.links_[n.a + b], &kids[0]));
        --depth;
        return Status::Ok();
      }
    }
    return Status::Internal("avro decode: bad plan");
  }

  Status CheckEnd() const {
    if (p != end) {
      return Status::InvalidArgument("avro decode: " + std::to_string(remaining()) +
                                     " trailing bytes");
    }
    return Status::Ok();
  }
};

Result<std::unique_ptr<Decoder>> Decoder::Create(std::shared_ptr<const Schema> schema) {
  if (schema == nullptr) return Status::InvalidArgument("avro decoder: null schema");
  std::unique_ptr<Decoder> d(new Decoder());
  d->schema_ = std::move(schema);
  DecoderCompiler compiler(d.get());
  compiler.Compile(*d->schema_);
  return d;
}

Status Decoder::DecodeToJson(std::string_view payload, std::string* out) const {
  out->clear();
  out->reserve(json_size_hint_.load(std::memory_order_relaxed));
  DecodeRun run{*this, reinterpret_cast<const unsigned char*>(payload.data()),
                reinterpret_cast<const unsigned char*>(payload.data()) + payload.size()};
  FP_RETURN_IF_ERROR(run.ToJson(0, out));
  json_size_hint_.store(out->size() + 16, std::memory_order_relaxed);
  return run.CheckEnd();
}

Status Decoder::DecodeInto(std::string_view payload, Value* out) const {
  DecodeRun run{*this, reinterpret_cast<const unsigned char*>(payload.data()),
                reinterpret_cast<const unsigned char*>(payload.data()) + payload.size()};
  FP_RETURN_IF_ERROR(run.ToValue(0, out));
  return run.CheckEnd();
}

Result<Value> Decoder::Decode(std::string_view payload) const {
  Value v;
  FP_RETURN_IF_ERROR(DecodeInto(payload, &v));
  return v;
}

}  // namespace forcepipe::avro
