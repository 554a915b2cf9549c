#include "avro/value.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <ostream>

namespace forcepipe::avro {

bool Value::operator==(const Value& o) const {
  if (type_ != o.type_) return false;
  switch (type_) {
    case Type::kNull:
      return true;
    case Type::kBoolean:
    case Type::kInt:
    case Type::kLong:
    case Type::kEnum:
      return i_ == o.i_;
    case Type::kFloat:
      return (std::isnan(f_) && std::isnan(o.f_)) || std::memcmp(&f_, &o.f_, sizeof f_) == 0;
    case Type::kDouble:
      return (std::isnan(d_) && std::isnan(o.d_)) || std::memcmp(&d_, &o.d_, sizeof d_) == 0;
    case Type::kBytes:
    case Type::kString:
    case Type::kFixed:
      return str_ == o.str_;
    case Type::kRecord:
    case Type::kArray:
      return children_ == o.children_;
    case Type::kMap:
      return keys_ == o.keys_ && children_ == o.children_;
    case Type::kUnion:
      return i_ == o.i_ && children_ == o.children_;
  }
  return false;
}

namespace {

void AppendQuoted(std::string_view s, std::string* out) {
  out->push_back('"');
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out->append(buf);
    } else {
      out->push_back(static_cast<char>(c));
    }
  }
  out->push_back('"');
}

void Render(const Value& v, std::string* out) {
  char buf[64];
  switch (v.type()) {
    case Type::kNull:
      out->append("null");
      return;
    case Type::kBoolean:
      out->append(v.as_bool() ? "true" : "false");
      return;
    case Type::kInt:
    case Type::kLong:
      out->append(std::to_string(v.as_long()));
      return;
    case Type::kFloat: {
      auto r = std::to_chars(buf, buf + sizeof buf, v.as_float());
      out->append(buf, r.ptr);
      out->append("f");
      return;
    }
    case Type::kDouble: {
      auto r = std::to_chars(buf, buf + sizeof buf, v.as_double());
      out->append(buf, r.ptr);
      return;
    }
    case Type::kBytes:
      out->append("b");
      AppendQuoted(v.str(), out);
      return;
    case Type::kFixed:
      out->append("fixed");
      AppendQuoted(v.str(), out);
      return;
    case Type::kString:
      AppendQuoted(v.str(), out);
      return;
    case Type::kEnum:
      out->append("enum#" + std::to_string(v.enum_index()));
      return;
    case Type::kRecord:
    case Type::kArray:
      out->push_back(v.type() == Type::kRecord ? '{' : '[');
      for (size_t i = 0; i < v.children().size(); ++i) {
        if (i > 0) out->push_back(',');
        Render(v.children()[i], out);
      }
      out->push_back(v.type() == Type::kRecord ? '}' : ']');
      return;
    case Type::kMap:
      out->append("map{");
      for (size_t i = 0; i < v.children().size(); ++i) {
        if (i > 0) out->push_back(',');
        AppendQuoted(v.map_keys()[i], out);
        out->push_back(':');
        Render(v.children()[i], out);
      }
      out->push_back('}');
      return;
    case Type::kUnion:
      out->append("u" + std::to_string(v.branch()) + "(");
      Render(v.union_value(), out);
      out->push_back(')');
      return;
  }
}

}  // namespace

std::string Value::DebugString() const {
  std::string out;
  Render(*this, &out);
  return out;
}

std::ostream& operator<<(std::ostream& os, const Value& v) { return os << v.DebugString(); }

}  // namespace forcepipe::avro
