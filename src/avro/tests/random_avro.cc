#include "avro/tests/random_avro.h"

#include <cstring>
#include <limits>
#include <set>

namespace forcepipe::avro::testing {

std::string RandomAvro::Schema() {
  named_.clear();
  std::string name = NewName();
  std::string out = R"({"type":"record","name":")" + name + R"(","namespace":"t.ns","fields":[)";
  int n = Uniform(1, 8);
  for (int i = 0; i < n; ++i) {
    if (i > 0) out += ",";
    out += R"({"name":"f)" + std::to_string(i) + R"(","type":)" + TypeJson(1, "t.ns", true) + "}";
  }
  out += "]}";
  return out;
}

std::string RandomAvro::TypeJson(int depth, const std::string& ns, bool allow_union) {
  static const char* kPrims[] = {"null",  "boolean", "int",   "long",
                                 "float", "double",  "bytes", "string"};
  int pick = depth > 4 ? Uniform(0, 7) : Uniform(0, 16);
  if (pick <= 7) {
    last_kind_ = kPrims[pick];
    return std::string("\"") + kPrims[pick] + "\"";
  }
  switch (pick) {
    case 8: {  // record
      std::string name = NewName();
      bool own_ns = Uniform(0, 3) == 0;
      std::string child_ns = own_ns ? "o" + name : ns;
      std::string out = R"({"type":"record","name":")" + name + "\"";
      if (own_ns) out += R"(,"namespace":")" + child_ns + "\"";
      out += R"(,"doc":"d","fields":[)";
      std::string full = child_ns.empty() ? name : child_ns + "." + name;
      int n = Uniform(1, 4);  // avro-c cannot hold arrays of empty records
      for (int i = 0; i < n; ++i) {
        if (i > 0) out += ",";
        out += R"({"name":"g)" + std::to_string(i) + R"(","type":)" +
               TypeJson(depth + 1, child_ns, true) + "}";
      }
      named_.push_back(full);  // referencable once complete (no recursion here)
      last_kind_ = full;
      return out + "]}";
    }
    case 9: {  // enum
      std::string name = NewName();
      named_.push_back(ns + "." + name);
      last_kind_ = named_.back();
      std::string out = R"({"type":"enum","name":")" + name + R"(","symbols":[)";
      int n = Uniform(1, 5);
      for (int i = 0; i < n; ++i) out += (i ? ",\"S" : "\"S") + std::to_string(i) + "\"";
      return out + "]}";
    }
    case 10: {  // fixed
      std::string name = NewName();
      named_.push_back(ns + "." + name);
      last_kind_ = named_.back();
      return R"({"type":"fixed","name":")" + name + R"(","size":)" +
             std::to_string(Uniform(1, 20)) +  // avro-c cannot hold size 0
             "}";
    }
    case 11: {
      std::string out = R"({"type":"array","items":)" + TypeJson(depth + 1, ns, true) + "}";
      last_kind_ = "array";
      return out;
    }
    case 12: {
      std::string out = R"({"type":"map","values":)" + TypeJson(depth + 1, ns, true) + "}";
      last_kind_ = "map";
      return out;
    }
    case 13:
    case 14: {  // union
      if (!allow_union) {
        last_kind_ = "string";
        return "\"string\"";
      }
      std::set<std::string> kinds;
      std::string out = "[";
      bool first = true;
      if (Uniform(0, 2) > 0) {
        out += "\"null\"";
        kinds.insert("null");
        first = false;
      }
      int n = Uniform(1, 3);
      for (int i = 0; i < n; ++i) {
        size_t named_before = named_.size();
        std::string t = TypeJson(depth + 1, ns, false);
        // Unnamed kinds and named types' full names must be unique within a union.
        if (!kinds.insert(last_kind_).second) {
          named_.resize(named_before);  // the dropped branch's definitions do not exist
          continue;
        }
        if (!first) out += ",";
        first = false;
        out += t;
      }
      if (first) out += "\"int\"";
      last_kind_ = "union";
      return out + "]";
    }
    default: {  // reference to an earlier named type (full name)
      if (named_.empty()) {
        last_kind_ = "long";
        return "\"long\"";
      }
      last_kind_ = named_[Uniform(0, static_cast<int>(named_.size()) - 1)];
      return "\"" + last_kind_ + "\"";
    }
  }
}

std::string RandomAvro::RandomString() {
  static const char* kPieces[] = {"a",    "Z",    "0", " ", "\"", "\\",   "/",   "\n", "\t",
                                  "\x01", "\x1f", "é", "€", "😀",  "日本", "x_y", "{",  "}"};
  std::string s;
  if (plain_strings_) {
    static const char kAlnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 ";
    int n = Uniform(5, 30);
    for (int i = 0; i < n; ++i) s.push_back(kAlnum[Uniform(0, 62)]);
    return s;
  }
  int n = Uniform(0, 12);
  for (int i = 0; i < n; ++i) s += kPieces[Uniform(0, 17)];
  return s;
}

std::string RandomAvro::RandomBytes(size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(Uniform(0, 255));
  return s;
}

Value RandomAvro::ValueFor(const avro::Schema& s, int depth) {
  switch (s.type()) {
    case Type::kNull:
      return Value::Null();
    case Type::kBoolean:
      return Value::Bool(Uniform(0, 1) == 1);
    case Type::kInt: {
      static const int32_t kEdge[] = {0,
                                      1,
                                      -1,
                                      63,
                                      64,
                                      -64,
                                      -65,
                                      std::numeric_limits<int32_t>::max(),
                                      std::numeric_limits<int32_t>::min()};
      if (Uniform(0, 2) == 0) return Value::Int(kEdge[Uniform(0, 8)]);
      return Value::Int(static_cast<int32_t>(rng_()));
    }
    case Type::kLong: {
      static const int64_t kEdge[] = {0,
                                      1,
                                      -1,
                                      1700000000000LL,
                                      std::numeric_limits<int64_t>::max(),
                                      std::numeric_limits<int64_t>::min(),
                                      (int64_t{1} << 53) + 1};
      if (Uniform(0, 2) == 0) return Value::Long(kEdge[Uniform(0, 6)]);
      return Value::Long(static_cast<int64_t>(rng_()) >> Uniform(0, 63));
    }
    case Type::kFloat:
      return Value::Float(std::uniform_real_distribution<float>(-1e6f, 1e6f)(rng_));
    case Type::kDouble: {
      static const double kEdge[] = {0.0, -0.0, 0.1, 1e300, -2.5e-308, 12345.678};
      if (Uniform(0, 2) == 0) return Value::Double(kEdge[Uniform(0, 5)]);
      return Value::Double(std::uniform_real_distribution<double>(-1e9, 1e9)(rng_));
    }
    case Type::kBytes:
      return Value::Bytes(RandomBytes(Uniform(0, 16)));
    case Type::kString:
      return Value::String(RandomString());
    case Type::kFixed:
      return Value::Fixed(RandomBytes(s.size()));
    case Type::kEnum:
      return Value::Enum(Uniform(0, static_cast<int>(s.symbols().size()) - 1));
    case Type::kRecord: {
      std::vector<Value> fields;
      for (const Field& f : s.fields()) fields.push_back(ValueFor(*f.type, depth + 1));
      return Value::Record(std::move(fields));
    }
    case Type::kArray: {
      std::vector<Value> items;
      int n = depth > 6 ? 0 : Uniform(0, 3);
      for (int i = 0; i < n; ++i) items.push_back(ValueFor(s.items(), depth + 1));
      return Value::Array(std::move(items));
    }
    case Type::kMap: {
      std::vector<std::string> keys;
      std::vector<Value> values;
      int n = depth > 6 ? 0 : Uniform(0, 3);
      for (int i = 0; i < n; ++i) {
        keys.push_back("k" + std::to_string(i) + RandomString());
        values.push_back(ValueFor(s.values(), depth + 1));
      }
      return Value::Map(std::move(keys), std::move(values));
    }
    case Type::kUnion: {
      size_t b;
      if (depth > 6 && s.null_branch() >= 0) {
        b = static_cast<size_t>(s.null_branch());
      } else {
        b = static_cast<size_t>(Uniform(0, static_cast<int>(s.branches().size()) - 1));
      }
      return Value::Union(b, ValueFor(*s.branches()[b], depth + 1));
    }
  }
  return Value::Null();
}

}  // namespace forcepipe::avro::testing
