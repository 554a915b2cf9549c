#pragma once

// A generic Avro datum, the in-memory form of one value of some Schema.
//
//   null, boolean, int (int32), long (int64; never goes through double), float,
//   double, bytes/string/fixed (bytes in str()), enum (symbol index), record
//   (field values in schema order), array (items), map (parallel keys/values),
//   union (branch index + the branch's value).
//
// A Value does not reference its schema; Encode() checks it against one.
// Thread safety: a value type; const access from many threads is safe.

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "avro/schema.h"

namespace forcepipe::avro {

class Value {
 public:
  Value() = default;  // null

  static Value Null() { return Value(); }
  static Value Bool(bool b) {
    Value v(Type::kBoolean);
    v.i_ = b ? 1 : 0;
    return v;
  }
  static Value Int(int32_t i) {
    Value v(Type::kInt);
    v.i_ = i;
    return v;
  }
  static Value Long(int64_t l) {
    Value v(Type::kLong);
    v.i_ = l;
    return v;
  }
  static Value Float(float f) {
    Value v(Type::kFloat);
    v.f_ = f;
    return v;
  }
  static Value Double(double d) {
    Value v(Type::kDouble);
    v.d_ = d;
    return v;
  }
  static Value Bytes(std::string b) {
    Value v(Type::kBytes);
    v.str_ = std::move(b);
    return v;
  }
  static Value String(std::string s) {
    Value v(Type::kString);
    v.str_ = std::move(s);
    return v;
  }
  static Value Fixed(std::string b) {
    Value v(Type::kFixed);
    v.str_ = std::move(b);
    return v;
  }
  static Value Enum(size_t symbol) {
    Value v(Type::kEnum);
    v.i_ = static_cast<int64_t>(symbol);
    return v;
  }
  static Value Record(std::vector<Value> fields) {
    Value v(Type::kRecord);
    v.children_ = std::move(fields);
    return v;
  }
  static Value Array(std::vector<Value> items) {
    Value v(Type::kArray);
    v.children_ = std::move(items);
    return v;
  }
  // REQUIRES: keys.size() == values.size().
  static Value Map(std::vector<std::string> keys, std::vector<Value> values) {
    Value v(Type::kMap);
    v.keys_ = std::move(keys);
    v.children_ = std::move(values);
    return v;
  }
  static Value Union(size_t branch, Value inner) {
    Value v(Type::kUnion);
    v.i_ = static_cast<int64_t>(branch);
    v.children_.push_back(std::move(inner));
    return v;
  }

  Type type() const { return type_; }
  // True for null, and for a union whose branch value is null.
  bool is_null() const {
    return type_ == Type::kNull || (type_ == Type::kUnion && children_[0].type_ == Type::kNull);
  }

  bool as_bool() const { return i_ != 0; }
  int32_t as_int() const { return static_cast<int32_t>(i_); }
  int64_t as_long() const { return i_; }
  float as_float() const { return f_; }
  double as_double() const { return d_; }
  // bytes / string / fixed contents.
  const std::string& str() const { return str_; }
  std::string& mutable_str() { return str_; }
  size_t enum_index() const { return static_cast<size_t>(i_); }

  // Record fields, array items or map values.
  const std::vector<Value>& children() const { return children_; }
  std::vector<Value>& mutable_children() { return children_; }
  const Value& field(size_t i) const { return children_[i]; }
  const std::vector<std::string>& map_keys() const { return keys_; }
  std::vector<std::string>& mutable_map_keys() { return keys_; }

  // Union: the selected branch and its value. REQUIRES: type() == kUnion.
  size_t branch() const { return static_cast<size_t>(i_); }
  const Value& union_value() const { return children_[0]; }
  // Strips any number of union wrappers.
  const Value& unwrapped() const {
    const Value* v = this;
    while (v->type_ == Type::kUnion) v = &v->children_[0];
    return *v;
  }

  // Exact structural equality (float/double compared bitwise-equal or both NaN).
  bool operator==(const Value& o) const;
  bool operator!=(const Value& o) const { return !(*this == o); }

  // Debug rendering, JSON-like; not the Avro JSON encoding.
  std::string DebugString() const;

  // In-place mutation, used by the decoder to reuse allocations: set_type() keeps
  // str/children/keys as they are (the caller resizes them).
  void set_type(Type t) { type_ = t; }
  void set_long(int64_t v) { i_ = v; }  // also bool (0/1), int, enum index, union branch
  void set_float(float f) { f_ = f; }
  void set_double(double d) { d_ = d; }

 private:
  explicit Value(Type t) : type_(t) {}

  Type type_ = Type::kNull;
  union {
    int64_t i_ = 0;  // boolean, int, long, enum index, union branch
    float f_;
    double d_;
  };
  std::string str_;
  std::vector<Value> children_;
  std::vector<std::string> keys_;
};

// Prints DebugString() (gtest uses this).
std::ostream& operator<<(std::ostream& os, const Value& v);

}  // namespace forcepipe::avro
