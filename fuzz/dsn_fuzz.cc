// libFuzzer target for SQL connection strings (src/sinks/sql/dsn): a DSN comes from a
// config file or a secret file. ParseDsn must never crash; a parsed DSN's Redacted()
// form never contains its password, and RedactSecret removes every raw and
// percent-encoded occurrence of a secret from any message.

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sinks/sql/dsn.h"

namespace {

bool Contains(std::string_view hay, std::string_view needle) {
  return !needle.empty() && hay.find(needle) != std::string_view::npos;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace forcepipe::sql;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto dsn = ParseDsn(text);
  if (dsn.ok()) {
    const Dsn& d = *dsn;
    // A password that also stands, by chance, in another part (user, host, ...) may
    // legitimately remain there; only a distinctive one is checked.
    if (d.password.size() >= 4 && !Contains(d.user, d.password) && !Contains(d.host, d.password) &&
        !Contains(d.database, d.password) && !Contains(d.path, d.password) &&
        !Contains(d.query, d.password) && !Contains(std::to_string(d.port), d.password) &&
        !Contains("****", d.password) && !Contains(BackendName(d.backend), d.password) &&
        Contains(d.Redacted(), d.password)) {
      std::abort();
    }
  }
  // The first half of the input as a secret, the whole input as the message.
  const std::string_view secret = text.substr(0, text.size() / 2);
  if (secret.size() >= 4 && secret.find('*') == std::string_view::npos) {
    std::string out = RedactSecret(std::string(text), secret);
    if (Contains(out, secret)) std::abort();
  }
  return 0;
}
