#include "sinks/sql/dsn.h"

#include <cctype>
#include <charconv>

namespace forcepipe::sql {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes `in`; false on a malformed escape.
bool PercentDecode(std::string_view in, std::string& out) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    int hi = HexValue(in[i + 1]);
    int lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

}  // namespace

std::string_view BackendName(Backend b) {
  switch (b) {
    case Backend::kSqlite:
      return "sqlite";
    case Backend::kPostgres:
      return "postgresql";
    case Backend::kMariaDb:
      return "mariadb";
  }
  return "?";
}

std::string Dsn::Redacted() const {
  if (backend == Backend::kSqlite) return "sqlite://" + path;
  std::string out = std::string(BackendName(backend)) + "://";
  if (!user.empty()) {
    out += user;
    if (!password.empty()) out += ":****";
    out += "@";
  }
  out += host;
  if (port) out += ":" + std::to_string(port);
  out += "/" + database;
  if (!query.empty()) out += "?" + query;
  return out;
}

std::string RedactSecret(std::string message, std::string_view secret) {
  if (secret.empty()) return message;
  auto replace_all = [&](std::string_view needle) {
    if (needle.empty()) return;
    size_t pos = 0;
    while ((pos = message.find(needle, pos)) != std::string::npos) {
      message.replace(pos, needle.size(), "****");
      pos += 4;
    }
  };
  replace_all(secret);
  // The percent-encoded spelling, as it may appear in an echoed URI.
  std::string encoded;
  static const char kHex[] = "0123456789ABCDEF";
  bool differs = false;
  for (unsigned char c : secret) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      encoded.push_back(static_cast<char>(c));
    } else {
      encoded.push_back('%');
      encoded.push_back(kHex[c >> 4]);
      encoded.push_back(kHex[c & 15]);
      differs = true;
    }
  }
  if (differs) replace_all(encoded);
  return message;
}

Result<Dsn> ParseDsn(std::string_view text) {
  Dsn dsn;
  dsn.original = std::string(text);
  size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) {
    return Status::InvalidArgument(
        "sql dsn: expected sqlite:///path, postgresql://user:password@host:port/db or "
        "mariadb://user:password@host:port/db");
  }
  std::string_view scheme = text.substr(0, scheme_end);
  std::string_view rest = text.substr(scheme_end + 3);
  if (scheme == "sqlite" || scheme == "sqlite3") {
    dsn.backend = Backend::kSqlite;
    if (rest.empty()) return Status::InvalidArgument("sql dsn: sqlite:// needs a file path");
    if (rest.find('?') != std::string_view::npos) {
      return Status::InvalidArgument("sql dsn: sqlite:// takes no query parameters");
    }
    dsn.path = std::string(rest);
    return dsn;
  }
  if (scheme == "postgresql" || scheme == "postgres") {
    dsn.backend = Backend::kPostgres;
  } else if (scheme == "mariadb" || scheme == "mysql") {
    dsn.backend = Backend::kMariaDb;
  } else {
    return Status::InvalidArgument("sql dsn: unknown scheme \"" + std::string(scheme) +
                                   "\" (expected sqlite, postgresql or mariadb)");
  }
  // Split off ?query.
  if (size_t q = rest.find('?'); q != std::string_view::npos) {
    dsn.query = std::string(rest.substr(q + 1));
    rest = rest.substr(0, q);
    if (dsn.backend != Backend::kPostgres && !dsn.query.empty()) {
      return Status::InvalidArgument("sql dsn: mariadb:// takes no query parameters");
    }
  }
  // userinfo@ (the last '@' before the path: passwords may contain '@' only
  // percent-encoded, but be lenient).
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    size_t colon = userinfo.find(':');
    if (!PercentDecode(userinfo.substr(0, colon), dsn.user)) {
      return Status::InvalidArgument("sql dsn: malformed percent-escape in the user name");
    }
    if (colon != std::string_view::npos &&
        !PercentDecode(userinfo.substr(colon + 1), dsn.password)) {
      return Status::InvalidArgument("sql dsn: malformed percent-escape in the password");
    }
  }
  std::string_view host = authority;
  if (!host.empty() && host.front() == '[') {  // [::1]:5432
    size_t close = host.find(']');
    if (close == std::string_view::npos)
      return Status::InvalidArgument("sql dsn: unclosed '[' in host");
    dsn.host = std::string(host.substr(1, close - 1));
    host = host.substr(close + 1);
    if (!host.empty() && host.front() != ':') {
      return Status::InvalidArgument("sql dsn: expected ':port' after ']'");
    }
    host = host.empty() ? host : host.substr(1);
    if (!host.empty())
      authority = host;
    else
      authority = {};
  } else if (size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    dsn.host = std::string(host.substr(0, colon));
    authority = host.substr(colon + 1);
  } else {
    dsn.host = std::string(host);
    authority = {};
  }
  if (!authority.empty()) {
    int port = 0;
    auto [p, ec] = std::from_chars(authority.data(), authority.data() + authority.size(), port);
    if (ec != std::errc() || p != authority.data() + authority.size() || port <= 0 ||
        port > 65535) {
      return Status::InvalidArgument("sql dsn: port \"" + std::string(authority) +
                                     "\" is not a number in 1..65535");
    }
    dsn.port = port;
  }
  if (dsn.host.empty()) return Status::InvalidArgument("sql dsn: missing host");
  if (!PercentDecode(path, dsn.database) || dsn.database.empty()) {
    return Status::InvalidArgument("sql dsn: missing database name after the host (…/dbname)");
  }
  return dsn;
}

}  // namespace forcepipe::sql
