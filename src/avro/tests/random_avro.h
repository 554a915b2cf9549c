#pragma once

// Test helpers: random Avro schemas (as JSON text) and random Values for a schema.
// Deterministic for a given seed.

#include <random>
#include <string>

#include "avro/schema.h"
#include "avro/value.h"

namespace forcepipe::avro::testing {

class RandomAvro {
 public:
  explicit RandomAvro(uint64_t seed) : rng_(seed) {}

  // A random record schema mixing every type: nested records, enums, fixed,
  // arrays, maps, unions (with and without null), and references to earlier
  // named types by (short or full) name.
  std::string Schema();

  // A random value of `schema`. Recursive schemas terminate by preferring null
  // branches and empty arrays/maps beyond a depth.
  Value ValueFor(const avro::Schema& schema, int depth = 0);

  std::mt19937_64& rng() { return rng_; }

  // Plain ASCII words instead of strings full of escapes and multi-byte characters
  // (for benchmarks that want realistic Salesforce text).
  void set_plain_strings(bool plain) { plain_strings_ = plain; }

 private:
  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  std::string TypeJson(int depth, const std::string& ns, bool allow_union);
  std::string NewName() { return "N" + std::to_string(next_name_++); }
  std::string RandomString();
  std::string RandomBytes(size_t n);

  std::mt19937_64 rng_;
  int next_name_ = 0;
  bool plain_strings_ = false;
  std::vector<std::string> named_;  // full names defined so far
  std::string last_kind_;           // kind/full name of the last TypeJson result
};

}  // namespace forcepipe::avro::testing
