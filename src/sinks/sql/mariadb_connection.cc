// MariaDB backend over libmariadb (Connector/C). Execute/Query use the text
// protocol: parameters are substituted as escaped literals
// (mysql_real_escape_string on a utf8mb4 connection), one round trip per
// statement. ExecuteBulk (the batch inserts) runs a server-side prepared
// single-row statement for many rows at once with array binding, so the
// server parses no SQL text per value.
// Sessions run with STRICT_ALL_TABLES (an over-long value is an error, never a
// silent truncation) and ANSI_QUOTES (identifiers quoted "like this" in every
// dialect).

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include <charconv>
#include <string>
#include <unordered_map>
#include <vector>

#include "sinks/sql/connection.h"

namespace forcepipe::sql {
namespace {

bool IsDataError(unsigned int e) {
  switch (e) {
    case ER_DATA_TOO_LONG:                    // 1406
    case ER_TRUNCATED_WRONG_VALUE:            // 1292
    case ER_TRUNCATED_WRONG_VALUE_FOR_FIELD:  // 1366
    case ER_WARN_DATA_OUT_OF_RANGE:           // 1264
    case ER_BAD_NULL_ERROR:                   // 1048
    case ER_DUP_ENTRY:                        // 1062
    case ER_NO_DEFAULT_FOR_FIELD:             // 1364
    case ER_INVALID_CHARACTER_STRING:         // 1300
    case 4025:                                // ER_CONSTRAINT_FAILED (JSON_VALID check)
    case 3140:                                // ER_INVALID_JSON_TEXT
    case 4038:                                // ER_JSON_SYNTAX
      return true;
    default:
      return false;
  }
}

bool IsTransient(unsigned int e) {
  switch (e) {
    case CR_SERVER_GONE_ERROR:  // 2006
    case CR_SERVER_LOST:        // 2013
    case CR_CONNECTION_ERROR:   // 2002
    case CR_CONN_HOST_ERROR:    // 2003
    case ER_LOCK_WAIT_TIMEOUT:  // 1205
    case ER_LOCK_DEADLOCK:      // 1213
    case ER_SERVER_SHUTDOWN:    // 1053
    case ER_CON_COUNT_ERROR:    // 1040
    case 1927:                  // ER_CONNECTION_KILLED
      return true;
    default:
      return false;
  }
}

class MariaDbConnection final : public Connection {
 public:
  // `bulk`: the server supports bulk execution (array binding).
  MariaDbConnection(MYSQL* db, std::string password, bool bulk)
      : db_(db), password_(std::move(password)), bulk_(bulk) {}
  ~MariaDbConnection() override {
    for (auto& [sql, stmt] : stmts_) mysql_stmt_close(stmt);
    mysql_close(db_);
  }

  Backend backend() const override { return Backend::kMariaDb; }
  bool broken() const override { return broken_; }
  size_t max_params() const override { return SIZE_MAX; }

  Status Execute(std::string_view sql, std::span<const Param> params, int64_t* affected) override {
    FP_RETURN_IF_ERROR(Run(sql, params));
    MYSQL_RES* res = mysql_store_result(db_);
    if (res) mysql_free_result(res);
    if (affected) {
      my_ulonglong n = mysql_affected_rows(db_);
      *affected = n == static_cast<my_ulonglong>(-1) ? 0 : static_cast<int64_t>(n);
    }
    return Status::Ok();
  }

  bool can_bulk() const override { return bulk_; }

  Status ExecuteBulk(std::string_view sql, size_t columns, std::span<const Param> values,
                     int64_t* affected) override {
    if (!bulk_) return Status::Unimplemented("mariadb: the server has no bulk execution");
    if (columns == 0 || values.size() % columns != 0) {
      return Status::Internal("mariadb: bulk values are not whole rows");
    }
    const size_t rows = values.size() / columns;
    if (rows == 0) return Status::Ok();
    FP_ASSIGN_OR_RETURN(MYSQL_STMT * stmt, Prepared(sql, columns));
    // Column-wise array binding: per column, an array of value pointers, of
    // lengths and of NULL indicators. Integers are sent as decimal text (the
    // server converts; every column here is text or BIGINT).
    ptrs_.resize(values.size());
    lens_.resize(values.size());
    inds_.resize(values.size());
    numbers_.resize(values.size() * 20);
    binds_.assign(columns, MYSQL_BIND{});
    for (size_t j = 0; j < columns; ++j) {
      for (size_t i = 0; i < rows; ++i) {
        const Param& p = values[i * columns + j];
        const size_t k = j * rows + i;
        inds_[k] = STMT_INDICATOR_NONE;
        if (const auto* sv = std::get_if<std::string_view>(&p)) {
          ptrs_[k] = const_cast<char*>(sv->data());
          lens_[k] = sv->size();
        } else if (const auto* iv = std::get_if<int64_t>(&p)) {
          char* out = numbers_.data() + k * 20;
          auto [end, ec] = std::to_chars(out, out + 20, *iv);
          ptrs_[k] = out;
          lens_[k] = static_cast<unsigned long>(end - out);
        } else {
          ptrs_[k] = nullptr;
          lens_[k] = 0;
          inds_[k] = STMT_INDICATOR_NULL;
        }
      }
      MYSQL_BIND& b = binds_[j];
      b.buffer_type = MYSQL_TYPE_STRING;
      b.buffer = ptrs_.data() + j * rows;
      b.length = lens_.data() + j * rows;
      b.u.indicator = inds_.data() + j * rows;
    }
    unsigned int size = static_cast<unsigned int>(rows);
    if (mysql_stmt_attr_set(stmt, STMT_ATTR_ARRAY_SIZE, &size) ||
        mysql_stmt_bind_param(stmt, binds_.data()) || mysql_stmt_execute(stmt)) {
      return StmtError(stmt, "mariadb");
    }
    if (affected) {
      my_ulonglong n = mysql_stmt_affected_rows(stmt);
      *affected = n == static_cast<my_ulonglong>(-1) ? 0 : static_cast<int64_t>(n);
    }
    return Status::Ok();
  }

  Result<std::vector<Row>> Query(std::string_view sql, std::span<const Param> params) override {
    FP_RETURN_IF_ERROR(Run(sql, params));
    MYSQL_RES* res = mysql_store_result(db_);
    std::vector<Row> rows;
    if (!res) {
      if (mysql_field_count(db_) == 0) return rows;
      return Error("mariadb: reading result");
    }
    const unsigned int ncol = mysql_num_fields(res);
    while (MYSQL_ROW r = mysql_fetch_row(res)) {
      unsigned long* lens = mysql_fetch_lengths(res);
      Row row(ncol);
      for (unsigned int c = 0; c < ncol; ++c) {
        if (r[c]) row[c] = std::string(r[c], lens[c]);
      }
      rows.push_back(std::move(row));
    }
    mysql_free_result(res);
    return rows;
  }

  Status Error(std::string_view what) { return Classify(what, mysql_errno(db_), mysql_error(db_)); }

  // A failed prepared statement is dropped from the cache (its state after a
  // connection error is unknown; a data error leaves it usable, but
  // re-preparing is cheap and rare).
  Status StmtError(MYSQL_STMT* stmt, std::string_view what) {
    Status s = Classify(what, mysql_stmt_errno(stmt), mysql_stmt_error(stmt));
    for (auto it = stmts_.begin(); it != stmts_.end(); ++it) {
      if (it->second == stmt) {
        mysql_stmt_close(stmt);
        stmts_.erase(it);
        break;
      }
    }
    return s;
  }

  Status Classify(std::string_view what, unsigned int e, const char* text) {
    std::string msg = std::string(what) + ": " + RedactSecret(text, password_) + " (error " +
                      std::to_string(e) + ")";
    // Client-side errors leave the connection state unknown; a killed session
    // or a shutting-down server will not serve another statement.
    if ((e >= 2000 && e < 3000) || e == 1927 || e == ER_SERVER_SHUTDOWN) broken_ = true;
    if (IsDataError(e)) return Status::InvalidArgument(msg);
    if (IsTransient(e) || broken_) return Status::Unavailable(msg);
    // ER_NO_SUCH_TABLE, ER_BAD_FIELD_ERROR: the schema is not what this build
    // wrote; retrying cannot help.
    if (e == 1146 || e == 1054) return Status::FailedPrecondition(msg);
    return Status::Internal(msg);
  }

 private:
  Status Run(std::string_view sql, std::span<const Param> params) {
    sql_.clear();
    sql_.reserve(sql.size() + params.size() * 16);
    size_t next = 0;
    for (char c : sql) {
      if (c != '?') {
        sql_ += c;
        continue;
      }
      if (next >= params.size()) return Status::Internal("mariadb: more placeholders than params");
      const Param& p = params[next++];
      if (const auto* sv = std::get_if<std::string_view>(&p)) {
        size_t start = sql_.size();
        sql_.resize(start + sv->size() * 2 + 2);
        sql_[start] = '\'';
        unsigned long n =
            mysql_real_escape_string(db_, sql_.data() + start + 1, sv->data(), sv->size());
        sql_.resize(start + 1 + n);
        sql_ += '\'';
      } else if (const auto* iv = std::get_if<int64_t>(&p)) {
        sql_ += std::to_string(*iv);
      } else {
        sql_ += "NULL";
      }
    }
    if (mysql_real_query(db_, sql_.data(), sql_.size()) != 0) return Error("mariadb");
    return Status::Ok();
  }

  Result<MYSQL_STMT*> Prepared(std::string_view sql, size_t columns) {
    auto it = stmts_.find(std::string(sql));
    if (it != stmts_.end()) return it->second;
    MYSQL_STMT* stmt = mysql_stmt_init(db_);
    if (!stmt) return Status::ResourceExhausted("mariadb: out of memory");
    if (mysql_stmt_prepare(stmt, sql.data(), static_cast<unsigned long>(sql.size()))) {
      Status s = Classify("mariadb prepare", mysql_stmt_errno(stmt), mysql_stmt_error(stmt));
      mysql_stmt_close(stmt);
      return s;
    }
    if (mysql_stmt_param_count(stmt) != columns) {
      mysql_stmt_close(stmt);
      return Status::Internal("mariadb: statement has " + std::to_string(columns) +
                              " values per row but a different number of placeholders");
    }
    if (stmts_.size() >= 16) {
      for (auto& [k, v] : stmts_) mysql_stmt_close(v);
      stmts_.clear();
    }
    stmts_.emplace(std::string(sql), stmt);
    return stmt;
  }

  MYSQL* db_;
  std::string password_;
  std::string sql_;  // the text statement being built, reused
  bool broken_ = false;
  const bool bulk_;
  std::unordered_map<std::string, MYSQL_STMT*> stmts_;  // prepared, by SQL text
  // Bulk binding buffers, reused.
  std::vector<char*> ptrs_;
  std::vector<unsigned long> lens_;
  std::vector<char> inds_;
  std::vector<char> numbers_;
  std::vector<MYSQL_BIND> binds_;
};

}  // namespace

Result<std::unique_ptr<Connection>> ConnectMariaDb(const Dsn& dsn, const ConnectOptions& options) {
  MYSQL* db = mysql_init(nullptr);
  if (!db) return Status::ResourceExhausted("mariadb: out of memory");
  unsigned int timeout = static_cast<unsigned int>(std::max<int64_t>(
      2, std::chrono::duration_cast<std::chrono::seconds>(options.connect_timeout).count()));
  unsigned int io_timeout = 60;
  mysql_optionsv(db, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  mysql_optionsv(db, MYSQL_OPT_READ_TIMEOUT, &io_timeout);
  mysql_optionsv(db, MYSQL_OPT_WRITE_TIMEOUT, &io_timeout);
  mysql_optionsv(db, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  const unsigned int port = dsn.port ? static_cast<unsigned int>(dsn.port) : 3306;
  if (!mysql_real_connect(db, dsn.host.c_str(), dsn.user.c_str(), dsn.password.c_str(),
                          dsn.database.c_str(), port, nullptr, 0)) {
    unsigned int e = mysql_errno(db);
    std::string msg = "mariadb: cannot connect to " + dsn.Redacted() + ": " +
                      RedactSecret(mysql_error(db), dsn.password) + " (error " + std::to_string(e) +
                      ")";
    mysql_close(db);
    if (e == ER_ACCESS_DENIED_ERROR || e == 1698 /*ER_ACCESS_DENIED_NO_PASSWORD_ERROR*/) {
      return Status::Unauthenticated(msg);
    }
    if (e == ER_BAD_DB_ERROR || e == ER_DBACCESS_DENIED_ERROR) return Status::NotFound(msg);
    return Status::Unavailable(msg);
  }
  // Bulk execution needs a MariaDB (not MySQL) server with
  // MARIADB_CLIENT_STMT_BULK_OPERATIONS (10.2+); the extended capabilities
  // are kept shifted down by 32 bits.
  unsigned long ext = 0;
  const bool bulk =
      mariadb_get_infov(db, MARIADB_CONNECTION_EXTENDED_SERVER_CAPABILITIES, &ext) == 0 &&
      (ext & (MARIADB_CLIENT_STMT_BULK_OPERATIONS >> 32)) != 0;
  std::unique_ptr<Connection> c = std::make_unique<MariaDbConnection>(db, dsn.password, bulk);
  FP_RETURN_IF_ERROR(
      c->Execute("SET SESSION sql_mode = 'STRICT_ALL_TABLES,ANSI_QUOTES,NO_ENGINE_SUBSTITUTION,"
                 "ERROR_FOR_DIVISION_BY_ZERO'"));
  FP_RETURN_IF_ERROR(c->Execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED"));
  return c;
}

}  // namespace forcepipe::sql
