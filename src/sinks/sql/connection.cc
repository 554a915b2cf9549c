#include "sinks/sql/connection.h"

namespace forcepipe::sql {

Result<std::unique_ptr<Connection>> Connect(const Dsn& dsn, const ConnectOptions& options) {
  switch (dsn.backend) {
    case Backend::kSqlite:
      return ConnectSqlite(dsn, options);
    case Backend::kPostgres:
      return ConnectPostgres(dsn, options);
    case Backend::kMariaDb:
      return ConnectMariaDb(dsn, options);
  }
  return Status::Internal("unknown sql backend");
}

}  // namespace forcepipe::sql
