#include "avro/json_value.h"

#include <limits>
#include <nlohmann/json.hpp>

namespace forcepipe::avro {
namespace {

using Json = nlohmann::ordered_json;  // keeps map key order

constexpr int kMaxDepth = 500;

Status Bad(const std::string& path, std::string_view what) {
  return Status::InvalidArgument("avro json" + (path.empty() ? "" : " at " + path) + ": " +
                                 std::string(what));
}

// Converts a UTF-8 string of code points <= U+00FF to bytes.
bool Latin1FromUtf8(const std::string& s, std::string* out) {
  out->clear();
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out->push_back(static_cast<char>(c));
    } else if ((c == 0xC2 || c == 0xC3) && i + 1 < s.size() &&
               (static_cast<unsigned char>(s[i + 1]) & 0xC0) == 0x80) {
      out->push_back(static_cast<char>(((c & 0x03) << 6) | (s[i + 1] & 0x3F)));
      ++i;
    } else {
      return false;
    }
  }
  return true;
}

bool ToDouble(const Json& j, double* d) {
  if (j.is_number()) {
    *d = j.get<double>();
    return true;
  }
  if (j.is_string()) {
    const auto& s = j.get_ref<const std::string&>();
    if (s == "NaN")
      *d = std::numeric_limits<double>::quiet_NaN();
    else if (s == "Infinity")
      *d = std::numeric_limits<double>::infinity();
    else if (s == "-Infinity")
      *d = -std::numeric_limits<double>::infinity();
    else
      return false;
    return true;
  }
  return false;
}

bool IsNatural(Type t, const Json& j) {
  switch (t) {
    case Type::kBoolean:
      return j.is_boolean();
    case Type::kInt:
    case Type::kLong:
      return j.is_number_integer();
    case Type::kDouble:
      return j.is_number_float();
    case Type::kString:
      return j.is_string();
    case Type::kRecord:
    case Type::kMap:
      return j.is_object();
    case Type::kArray:
      return j.is_array();
    default:
      return false;
  }
}

Result<Value> Convert(const Schema& s, const Json& j, int depth, const std::string& path) {
  if (depth > kMaxDepth) return Bad(path, "nested too deeply");
  switch (s.type()) {
    case Type::kNull:
      if (!j.is_null()) return Bad(path, "expected null");
      return Value::Null();
    case Type::kBoolean:
      if (!j.is_boolean()) return Bad(path, "expected boolean");
      return Value::Bool(j.get<bool>());
    case Type::kInt:
    case Type::kLong: {
      int64_t v;
      if (j.is_number_unsigned()) {
        uint64_t u = j.get<uint64_t>();
        if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
          return Bad(path, "integer out of range");
        }
        v = static_cast<int64_t>(u);
      } else if (j.is_number_integer()) {
        v = j.get<int64_t>();
      } else {
        return Bad(path, "expected integer");
      }
      if (s.type() == Type::kLong) return Value::Long(v);
      if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max()) {
        return Bad(path, "int out of range");
      }
      return Value::Int(static_cast<int32_t>(v));
    }
    case Type::kFloat:
    case Type::kDouble: {
      double d;
      if (!ToDouble(j, &d)) return Bad(path, "expected number");
      if (s.type() == Type::kFloat) return Value::Float(static_cast<float>(d));
      return Value::Double(d);
    }
    case Type::kString:
      if (!j.is_string()) return Bad(path, "expected string");
      return Value::String(j.get<std::string>());
    case Type::kBytes:
    case Type::kFixed: {
      std::string bytes;
      if (!j.is_string() || !Latin1FromUtf8(j.get_ref<const std::string&>(), &bytes)) {
        return Bad(path, "expected a string of code points U+0000..U+00FF");
      }
      if (s.type() == Type::kBytes) return Value::Bytes(std::move(bytes));
      if (bytes.size() != s.size()) return Bad(path, "wrong fixed size");
      return Value::Fixed(std::move(bytes));
    }
    case Type::kEnum: {
      if (!j.is_string()) return Bad(path, "expected enum symbol");
      auto idx = s.FindSymbol(j.get_ref<const std::string&>());
      if (!idx) return Bad(path, "unknown enum symbol " + j.get<std::string>());
      return Value::Enum(*idx);
    }
    case Type::kRecord: {
      if (!j.is_object()) return Bad(path, "expected object for record " + s.full_name());
      size_t used = 0;
      std::vector<Value> fields;
      fields.reserve(s.fields().size());
      for (const Field& f : s.fields()) {
        std::string fpath = path + "." + f.name;
        auto it = j.find(f.name);
        if (it != j.end()) {
          ++used;
          FP_ASSIGN_OR_RETURN(Value v, Convert(*f.type, *it, depth + 1, fpath));
          fields.push_back(std::move(v));
        } else if (f.default_json) {
          // Avro defaults for unions are of the first branch.
          Json def = Json::parse(*f.default_json, nullptr, false);
          const Schema& t = f.type->type() == Type::kUnion && !f.type->branches().empty()
                                ? *f.type->branches()[0]
                                : *f.type;
          FP_ASSIGN_OR_RETURN(Value v, Convert(t, def, depth + 1, fpath));
          fields.push_back(f.type->type() == Type::kUnion ? Value::Union(0, std::move(v))
                                                          : std::move(v));
        } else {
          return Bad(fpath, "missing field without default");
        }
      }
      if (used != j.size()) return Bad(path, "unknown field in object for " + s.full_name());
      return Value::Record(std::move(fields));
    }
    case Type::kArray: {
      if (!j.is_array()) return Bad(path, "expected array");
      std::vector<Value> items;
      items.reserve(j.size());
      for (size_t i = 0; i < j.size(); ++i) {
        FP_ASSIGN_OR_RETURN(
            Value v, Convert(s.items(), j[i], depth + 1, path + "[" + std::to_string(i) + "]"));
        items.push_back(std::move(v));
      }
      return Value::Array(std::move(items));
    }
    case Type::kMap: {
      if (!j.is_object()) return Bad(path, "expected object for map");
      std::vector<std::string> keys;
      std::vector<Value> values;
      for (auto it = j.begin(); it != j.end(); ++it) {
        FP_ASSIGN_OR_RETURN(Value v,
                            Convert(s.values(), it.value(), depth + 1, path + "." + it.key()));
        keys.push_back(it.key());
        values.push_back(std::move(v));
      }
      return Value::Map(std::move(keys), std::move(values));
    }
    case Type::kUnion: {
      if (j.is_null()) {
        if (s.null_branch() < 0) return Bad(path, "null for a union without null");
        return Value::Union(static_cast<size_t>(s.null_branch()), Value::Null());
      }
      // Pass 0: branches whose kind is the JSON value's natural one (an integer goes to
      // int/long before float/double, so no precision is lost); pass 1: any branch.
      for (int pass = 0; pass < 2; ++pass) {
        for (size_t b = 0; b < s.branches().size(); ++b) {
          Type t = s.branches()[b]->type();
          if (t == Type::kNull) continue;
          if (pass == 0 && !IsNatural(t, j)) continue;
          auto v = Convert(*s.branches()[b], j, depth + 1, path);
          if (v.ok()) return Value::Union(b, std::move(v).value());
        }
      }
      return Bad(path, "no union branch accepts the value");
    }
  }
  return Bad(path, "unknown type");
}

}  // namespace

Result<Value> ValueFromJson(const Schema& schema, std::string_view json) {
  Json j = Json::parse(json.begin(), json.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument("avro json: not valid JSON");
  try {
    return Convert(schema, j, 0, "$");
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("avro json: ") + e.what());
  }
}

}  // namespace forcepipe::avro
