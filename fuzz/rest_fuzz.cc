// libFuzzer target for the describeGlobal body parser (src/salesforce/rest): a
// REST response body is input from the network. ParseDescribeGlobal must never
// crash; every entry it accepts has a non-empty name, and the EventStream
// filter over what it accepts yields sorted, unique /event/ topics.

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "salesforce/rest/rest_client.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace forcepipe::salesforce;
  auto parsed = ParseDescribeGlobal(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!parsed.ok()) return 0;
  for (const auto& s : *parsed) {
    if (s.name.empty()) std::abort();
  }
  auto topics = EventStreamTopics(*parsed);
  if (!std::is_sorted(topics.begin(), topics.end())) std::abort();
  if (std::adjacent_find(topics.begin(), topics.end()) != topics.end()) std::abort();
  for (const auto& t : topics) {
    if (t.rfind("/event/", 0) != 0) std::abort();
  }
  return 0;
}
