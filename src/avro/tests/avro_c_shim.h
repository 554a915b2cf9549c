#pragma once

// A thin wrapper around Apache avro-c for the differential test. It is compiled in
// its own target without src/ on the include path, because our src/avro/schema.h
// would shadow avro-c's <avro/schema.h>. Only standard headers here.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace forcepipe::avro::avroc {

// Mirrors forcepipe::avro::Type's order.
enum class Kind : int {
  kNull,
  kBoolean,
  kInt,
  kLong,
  kFloat,
  kDouble,
  kBytes,
  kString,
  kRecord,
  kEnum,
  kArray,
  kMap,
  kUnion,
  kFixed,
};

// A datum as avro-c sees it.
struct Datum {
  Kind kind = Kind::kNull;
  int64_t i = 0;  // boolean, int, long, enum index, union branch
  float f = 0;
  double d = 0;
  std::string bytes;              // bytes, string (without NUL), fixed
  std::vector<Datum> kids;        // record fields, array items, map values, union value
  std::vector<std::string> keys;  // record field names, map keys
};

class Codec {
 public:
  // Returns nullptr and sets *error when avro-c rejects the schema.
  static std::unique_ptr<Codec> Create(const std::string& schema_json, std::string* error);
  ~Codec();

  // Reads one datum with avro_value_read from a memory reader.
  bool Read(const std::string& bytes, Datum* out, std::string* error);
  // Builds an avro-c generic value from `d` and writes it with avro_value_write.
  bool Write(const Datum& d, std::string* out, std::string* error);

 private:
  Codec() = default;
  void* schema_ = nullptr;  // avro_schema_t
  void* iface_ = nullptr;   // avro_value_iface_t*
};

}  // namespace forcepipe::avro::avroc
