#pragma once

// Connection strings for the SQL event store:
//   sqlite:///absolute/path/events.db      (sqlite://relative/path.db is relative to the cwd)
//   postgresql://user:password@host:5432/database?sslmode=require   (postgres:// also accepted)
//   mariadb://user:password@host:3306/database                         (mysql:// also accepted)
// User and password may be percent-encoded. Query parameters are passed to the
// backend unchanged for PostgreSQL (libpq understands them) and rejected for
// the others.
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
  std::string password;  // never printed
  std::string database;
  std::string query;     // "sslmode=require&..." without '?'
  std::string original;  // the text as written (contains the password)

  // The DSN with the password replaced by "****", safe to log.
  std::string Redacted() const;
};

// Parses `text`. Errors never contain the password.
Result<Dsn> ParseDsn(std::string_view text);

// Returns `message` with every occurrence of `secret` (and of its
// percent-encoded form) replaced by "****". No-op for an empty secret.
std::string RedactSecret(std::string message, std::string_view secret);

}  // namespace forcepipe::sql
