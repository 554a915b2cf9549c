// libFuzzer target for Retry-After parsing (src/sinks/loki/loki_http): the header value
// comes from a server. ParseRetryAfter must never crash, and whatever it returns lies
// within [0, cap] whatever the value and the clock.

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "sinks/loki/loki_http.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using forcepipe::Duration;
  int64_t now = 0;
  if (size >= sizeof(now)) {
    std::memcpy(&now, data, sizeof(now));
    data += sizeof(now);
    size -= sizeof(now);
  }
  const Duration cap = std::chrono::seconds(300);
  auto d = forcepipe::loki::ParseRetryAfter(
      std::string_view(reinterpret_cast<const char*>(data), size), now, cap);
  if (d && (*d < Duration::zero() || *d > cap)) std::abort();
  return 0;
}
