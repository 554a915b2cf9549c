#include "avro/encoder.h"

#include <cstring>
#include <limits>

namespace forcepipe::avro {
namespace {

constexpr int kMaxDepth = 1000;

Status Mismatch(const Schema& s, const Value& v) {
  return Status::InvalidArgument("avro encode: " + std::string(TypeName(v.type())) + " value for " +
                                 std::string(TypeName(s.type())) + " schema" +
                                 (s.full_name().empty() ? "" : " " + s.full_name()));
}

// The branch of union `u` whose kind is that of `v`, or -1 if none or ambiguous.
int MatchBranch(const Schema& u, const Value& v) {
  int found = -1;
  for (size_t i = 0; i < u.branches().size(); ++i) {
    if (u.branches()[i]->type() == v.type()) {
      if (found >= 0) return -1;
      found = static_cast<int>(i);
    }
  }
  return found;
}

Status EncodeImpl(const Schema& s, const Value& v, int depth, std::string* out) {
  if (depth > kMaxDepth) return Status::InvalidArgument("avro encode: value nested too deeply");
  if (s.type() == Type::kUnion) {
    size_t branch;
    const Value* inner;
    if (v.type() == Type::kUnion) {
      branch = v.branch();
      inner = &v.union_value();
    } else {
      int b = MatchBranch(s, v);
      if (b < 0) return Mismatch(s, v);
      branch = static_cast<size_t>(b);
      inner = &v;
    }
    if (branch >= s.branches().size()) {
      return Status::InvalidArgument("avro encode: union branch " + std::to_string(branch) +
                                     " out of range");
    }
    AppendLong(static_cast<int64_t>(branch), out);
    return EncodeImpl(*s.branches()[branch], *inner, depth + 1, out);
  }
  if (v.type() != s.type()) return Mismatch(s, v);
  switch (s.type()) {
    case Type::kNull:
      return Status::Ok();
    case Type::kBoolean:
      out->push_back(v.as_bool() ? 1 : 0);
      return Status::Ok();
    case Type::kInt:
      if (v.as_long() < std::numeric_limits<int32_t>::min() ||
          v.as_long() > std::numeric_limits<int32_t>::max()) {
        return Status::InvalidArgument("avro encode: int out of range");
      }
      AppendLong(v.as_long(), out);
      return Status::Ok();
    case Type::kLong:
      AppendLong(v.as_long(), out);
      return Status::Ok();
    case Type::kFloat: {
      float f = v.as_float();
      char b[4];
      std::memcpy(b, &f, 4);  // little-endian host (x86-64, aarch64)
      out->append(b, 4);
      return Status::Ok();
    }
    case Type::kDouble: {
      double d = v.as_double();
      char b[8];
      std::memcpy(b, &d, 8);
      out->append(b, 8);
      return Status::Ok();
    }
    case Type::kBytes:
    case Type::kString:
      AppendString(v.str(), out);
      return Status::Ok();
    case Type::kFixed:
      if (v.str().size() != s.size()) {
        return Status::InvalidArgument("avro encode: fixed " + s.full_name() + " needs " +
                                       std::to_string(s.size()) + " bytes");
      }
      out->append(v.str());
      return Status::Ok();
    case Type::kEnum:
      if (v.enum_index() >= s.symbols().size()) {
        return Status::InvalidArgument("avro encode: enum index out of range for " + s.full_name());
      }
      AppendLong(static_cast<int64_t>(v.enum_index()), out);
      return Status::Ok();
    case Type::kRecord:
      if (v.children().size() != s.fields().size()) {
        return Status::InvalidArgument("avro encode: record " + s.full_name() + " has " +
                                       std::to_string(s.fields().size()) + " fields, value has " +
                                       std::to_string(v.children().size()));
      }
      for (size_t i = 0; i < s.fields().size(); ++i) {
        Status st = EncodeImpl(*s.fields()[i].type, v.children()[i], depth + 1, out);
        if (!st.ok()) return st.WithContext(s.fields()[i].name);
      }
      return Status::Ok();
    case Type::kArray:
    case Type::kMap:
      if (s.type() == Type::kMap && v.map_keys().size() != v.children().size()) {
        return Status::InvalidArgument("avro encode: map keys/values size mismatch");
      }
      if (!v.children().empty()) {
        AppendLong(static_cast<int64_t>(v.children().size()), out);
        for (size_t i = 0; i < v.children().size(); ++i) {
          if (s.type() == Type::kMap) AppendString(v.map_keys()[i], out);
          FP_RETURN_IF_ERROR(EncodeImpl(s.items(), v.children()[i], depth + 1, out));
        }
      }
      out->push_back(0);
      return Status::Ok();
    case Type::kUnion:
      break;  // handled above
  }
  return Status::Internal("avro encode: unreachable");
}

}  // namespace

void AppendLong(int64_t v, std::string* out) {
  uint64_t z = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  char buf[10];
  int n = 0;
  while (z >= 0x80) {
    buf[n++] = static_cast<char>((z & 0x7f) | 0x80);
    z >>= 7;
  }
  buf[n++] = static_cast<char>(z);
  out->append(buf, n);
}

void AppendString(std::string_view s, std::string* out) {
  AppendLong(static_cast<int64_t>(s.size()), out);
  out->append(s);
}

Status Encode(const Schema& schema, const Value& value, std::string* out) {
  return EncodeImpl(schema, value, 0, out);
}

}  // namespace forcepipe::avro
