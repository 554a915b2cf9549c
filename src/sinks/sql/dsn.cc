#include "sinks/sql/dsn.h"

#include <cctype>
#include <charconv>
#include <vector>

#include "core/log.h"

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

// Keys whose values are secrets in a libpq query string or keyword DSN.
bool IsSecretKey(std::string_view key) { return key == "password" || key == "sslpassword"; }

// Splits "a=1&b=2" into (key, raw value) pairs.
std::vector<std::pair<std::string_view, std::string_view>> QueryPairs(std::string_view query) {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view kv = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = kv.find('=');
    out.emplace_back(kv.substr(0, eq),
                     eq == std::string_view::npos ? std::string_view() : kv.substr(eq + 1));
  }
  return out;
}

// Registers a password as written and decoded (the redactor also knows its
// encodings) so that no log line or printed error carries it.
void RegisterPassword(std::string_view raw) {
  log::RegisterSecret(raw);
  std::string decoded;
  if (PercentDecode(raw, decoded)) log::RegisterSecret(decoded);
}

// A libpq keyword=value DSN ("host=h password='a b' dbname=d") is not
// accepted, but its password must not be printed either: registers the value
// of every password-like keyword.
void RegisterKeywordDsnSecrets(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    size_t key_begin = i;
    while (i < text.size() && text[i] != '=' && !std::isspace(static_cast<unsigned char>(text[i])))
      ++i;
    std::string_view key = text.substr(key_begin, i - key_begin);
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i >= text.size() || text[i] != '=') {
      ++i;
      continue;
    }
    ++i;
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    std::string value;
    if (i < text.size() && text[i] == '\'') {
      for (++i; i < text.size() && text[i] != '\''; ++i) {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        value.push_back(text[i]);
      }
      ++i;
    } else {
      while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i])))
        value.push_back(text[i++]);
    }
    if (IsSecretKey(key)) log::RegisterSecret(value);
  }
}

}  // namespace

bool PercentDecodeComponent(std::string_view in, std::string& out) {
  return PercentDecode(in, out);
}

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
    if (password_in_userinfo) out += ":****";
    out += "@";
  }
  out += host;
  if (port) out += ":" + std::to_string(port);
  out += "/" + database;
  bool first = true;
  for (auto [key, value] : QueryPairs(query)) {
    out += first ? "?" : "&";
    first = false;
    out += key;
    if (IsSecretKey(key)) {
      out += "=****";
    } else if (value.data() != nullptr) {
      out += "=";
      out += value;
    }
  }
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
    RegisterKeywordDsnSecrets(text);
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
  // userinfo@ ends at the LAST '@': a password may hold '@', '/', '?' or ':'
  // written unencoded, and must then still be taken whole (never as part of
  // the host, port or path, which errors quote).
  std::string_view userinfo;
  bool has_userinfo = false;
  if (size_t at = rest.rfind('@'); at != std::string_view::npos) {
    userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    has_userinfo = true;
  }
  // Split off ?query.
  if (size_t q = rest.find('?'); q != std::string_view::npos) {
    dsn.query = std::string(rest.substr(q + 1));
    rest = rest.substr(0, q);
    for (auto [key, value] : QueryPairs(dsn.query)) {
      if (!IsSecretKey(key)) continue;
      RegisterPassword(value);
      std::string decoded;
      if (key == "password" && PercentDecode(value, decoded)) dsn.password = decoded;
    }
    if (dsn.backend != Backend::kPostgres && !dsn.query.empty()) {
      return Status::InvalidArgument("sql dsn: mariadb:// takes no query parameters");
    }
  }
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  if (has_userinfo) {
    size_t colon = userinfo.find(':');
    if (colon != std::string_view::npos) {
      std::string_view raw = userinfo.substr(colon + 1);
      RegisterPassword(raw);
      dsn.password_in_userinfo = true;
      log::RegisterSecret(userinfo);  // user:password, as a URL or Basic header carries it
      if (!PercentDecode(raw, dsn.password)) {
        return Status::InvalidArgument("sql dsn: malformed percent-escape in the password");
      }
    }
    if (!PercentDecode(userinfo.substr(0, colon), dsn.user)) {
      return Status::InvalidArgument("sql dsn: malformed percent-escape in the user name");
    }
    if (!dsn.password.empty()) log::RegisterSecret(dsn.user + ":" + dsn.password);
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
