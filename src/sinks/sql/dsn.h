#pragma once

// Connection strings for the SQL event store:
//   sqlite:///absolute/path/events.db      (sqlite://relative/path.db is relative to the cwd)
//   postgresql://user:password@host:5432/database?sslmode=require   (postgres:// also accepted)
//   mariadb://user:password@host:3306/database                         (mysql:// also accepted)
// User and password may be percent-encoded; the userinfo ends at the last '@',
// so a password holding '@', '/', '?' or ':' unencoded is still taken whole.
// Query parameters are passed to libpq as keywords (percent-decoded) for
// PostgreSQL and rejected for the others. Every password form (userinfo, a
// `password=`/`sslpassword=` query parameter, the same keywords in a libpq
// keyword=value DSN, which is otherwise rejected) is registered with
// log::RegisterSecret while parsing, as written, decoded and as
// `user:password`, so no log line or error printed through log::Redact shows
// it in any encoding.
//
// Thread safety: values.

#include <string>
#include <string_view>

#include "core/status.h"

namespace forcepipe::sql {

enum class Backend { kSqlite, kPostgres, kMariaDb };

std::string_view BackendName(Backend b);

struct Dsn {
  Backend backend = Backend::kSqlite;
  std::string path;  // sqlite
  std::string host;  // postgres, mariadb
  int port = 0;      // 0: the backend's default
  std::string user;
  std::string password;  // never printed; from the userinfo, else `password=`
  bool password_in_userinfo = false;
  std::string database;
  std::string query;     // "sslmode=require&..." without '?'
  std::string original;  // the text as written (contains the password)

  // The DSN with the password (userinfo and query) replaced by "****", safe
  // to log.
  std::string Redacted() const;
};

// Parses `text`. Errors never contain the password.
Result<Dsn> ParseDsn(std::string_view text);

// Percent-decodes one URI component ('+' stays '+'); false on a malformed escape.
bool PercentDecodeComponent(std::string_view in, std::string& out);

// Returns `message` with every occurrence of `secret` (and of its
// percent-encoded form) replaced by "****". No-op for an empty secret.
std::string RedactSecret(std::string message, std::string_view secret);

}  // namespace forcepipe::sql
