// PostgreSQL backend over libpq: PQexecParams / PQexecPrepared with text
// parameters ($1..$n), so a multi-row INSERT is one round trip; CopyIn sends
// a whole table's rows as one COPY FROM STDIN (text format). Errors are
// classified by SQLSTATE class (22 data exception, 23 integrity constraint ->
// refused data; 08 connection, 40 serialization/deadlock, 53 resources,
// 57 operator intervention -> retry).

#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/log.h"
#include "sinks/sql/connection.h"
#include "sinks/sql/dsn.h"

namespace forcepipe::sql {
namespace {

class PgResult {
 public:
  explicit PgResult(PGresult* r) : r_(r) {}
  ~PgResult() { PQclear(r_); }
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;
  PGresult* get() const { return r_; }

 private:
  PGresult* r_;
};

class PostgresConnection final : public Connection {
 public:
  PostgresConnection(PGconn* conn, std::string password, size_t max_params)
      : conn_(conn), password_(std::move(password)), max_params_(max_params) {}
  ~PostgresConnection() override { PQfinish(conn_); }

  Backend backend() const override { return Backend::kPostgres; }
  bool broken() const override { return PQstatus(conn_) != CONNECTION_OK; }
  size_t max_params() const override { return max_params_; }

  Status Execute(std::string_view sql, std::span<const Param> params, int64_t* affected) override {
    FP_RETURN_IF_ERROR(CheckNoNul(params));
    PgResult r(Run(sql, params));
    FP_RETURN_IF_ERROR(Check(r.get()));
    if (affected) {
      const char* n = PQcmdTuples(r.get());
      int64_t v = 0;
      if (n && *n) std::from_chars(n, n + strlen(n), v);
      *affected = v;
    }
    return Status::Ok();
  }

  bool can_copy() const override { return true; }

  Status CopyIn(std::string_view target, size_t columns, std::span<const Param> values,
                int64_t* affected) override {
    if (columns == 0 || values.size() % columns != 0) {
      return Status::Internal("postgresql: COPY values are not whole rows");
    }
    FP_RETURN_IF_ERROR(CheckNoNul(values));
    copy_.clear();
    for (size_t i = 0; i < values.size(); ++i) {
      if (const auto* sv = std::get_if<std::string_view>(&values[i])) {
        AppendCopyText(copy_, *sv);
      } else if (const auto* iv = std::get_if<int64_t>(&values[i])) {
        char buf[24];
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *iv);
        copy_.append(buf, end);
      } else {
        copy_ += "\\N";
      }
      copy_ += (i % columns == columns - 1) ? '\n' : '\t';
    }
    std::string sql = "COPY ";
    sql += target;
    sql += " FROM STDIN";
    {
      PgResult start(PQexec(conn_, sql.c_str()));
      if (!start.get() || PQresultStatus(start.get()) != PGRES_COPY_IN) {
        Status s = Check(start.get());
        return s.ok() ? Status::Internal("postgresql: COPY did not start") : s;
      }
    }
    // In blocking mode PQputCopyData sends (or buffers) everything; -1 means
    // the connection failed. Either way the server's verdict comes from
    // PQgetResult.
    const bool sent = PQputCopyData(conn_, copy_.data(), static_cast<int>(copy_.size())) == 1;
    const bool ended = PQputCopyEnd(conn_, sent ? nullptr : "client could not send data") == 1;
    PgResult r(PQgetResult(conn_));
    Status s = Check(r.get());
    while (PGresult* extra = PQgetResult(conn_)) PQclear(extra);
    if (!s.ok()) return s;
    if (!sent || !ended) {
      return Status::Unavailable("postgresql: COPY: " +
                                 RedactSecret(PQerrorMessage(conn_), password_));
    }
    if (affected) {
      const char* n = PQcmdTuples(r.get());
      int64_t v = 0;
      if (n && *n) std::from_chars(n, n + strlen(n), v);
      *affected = v;
    }
    return Status::Ok();
  }

  Result<std::vector<Row>> Query(std::string_view sql, std::span<const Param> params) override {
    FP_RETURN_IF_ERROR(CheckNoNul(params));
    PgResult r(Run(sql, params));
    FP_RETURN_IF_ERROR(Check(r.get()));
    std::vector<Row> rows;
    const int n = PQntuples(r.get());
    const int ncol = PQnfields(r.get());
    rows.reserve(n);
    for (int i = 0; i < n; ++i) {
      Row row(ncol);
      for (int c = 0; c < ncol; ++c) {
        if (PQgetisnull(r.get(), i, c)) continue;
        row[c] = std::string(PQgetvalue(r.get(), i, c), PQgetlength(r.get(), i, c));
      }
      rows.push_back(std::move(row));
    }
    return rows;
  }

 private:
  // COPY text format: backslash, newline, carriage return and tab are
  // escaped; everything else (UTF-8 included) is sent as is.
  static void AppendCopyText(std::string& out, std::string_view v) {
    size_t start = 0;
    for (size_t i = 0; i < v.size(); ++i) {
      char e;
      switch (v[i]) {
        case '\\':
          e = '\\';
          break;
        case '\n':
          e = 'n';
          break;
        case '\r':
          e = 'r';
          break;
        case '\t':
          e = 't';
          break;
        default:
          continue;
      }
      out.append(v.data() + start, i - start);
      out += '\\';
      out += e;
      start = i + 1;
    }
    out.append(v.data() + start, v.size() - start);
  }

  // Text parameters travel NUL-terminated, so a NUL inside one would be
  // silently truncated; PostgreSQL text cannot hold NUL anyway. Refuse it as
  // data (the row is isolated and reported), never truncate.
  static Status CheckNoNul(std::span<const Param> params) {
    for (const Param& p : params) {
      if (const auto* sv = std::get_if<std::string_view>(&p)) {
        if (sv->find('\0') != std::string_view::npos) {
          return Status::InvalidArgument(
              "postgresql: a text value contains a NUL byte (0x00), which PostgreSQL cannot "
              "store");
        }
      }
    }
    return Status::Ok();
  }

  PGresult* Run(std::string_view sql, std::span<const Param> params) {
    // Rewrite ? -> $n.
    sql_.clear();
    sql_.reserve(sql.size() + params.size() * 3);
    int n = 0;
    for (char c : sql) {
      if (c == '?') {
        sql_ += '$';
        sql_ += std::to_string(++n);
      } else {
        sql_ += c;
      }
    }
    values_.resize(params.size());
    ptrs_.resize(params.size());
    for (size_t i = 0; i < params.size(); ++i) {
      if (const auto* sv = std::get_if<std::string_view>(&params[i])) {
        values_[i].assign(sv->data(), sv->size());  // libpq wants NUL-terminated text
        ptrs_[i] = values_[i].c_str();
      } else if (const auto* iv = std::get_if<int64_t>(&params[i])) {
        values_[i] = std::to_string(*iv);
        ptrs_[i] = values_[i].c_str();
      } else {
        ptrs_[i] = nullptr;
      }
    }
    // INSERTs (the per-batch statements, whose text is constant) are prepared
    // once per connection; everything else is planned per execution so that
    // e.g. a pruning DELETE is planned for its actual cutoff.
    if (!params.empty() && sql.substr(0, 6) == "INSERT") {
      auto it = prepared_.find(sql_);
      if (it == prepared_.end() && prepared_.size() < kMaxPrepared) {
        std::string name = "fp_" + std::to_string(prepared_.size());
        PGresult* prep =
            PQprepare(conn_, name.c_str(), sql_.c_str(), static_cast<int>(params.size()), nullptr);
        if (!prep || PQresultStatus(prep) != PGRES_COMMAND_OK) return prep;  // caller reports
        PQclear(prep);
        it = prepared_.emplace(sql_, std::move(name)).first;
      }
      if (it != prepared_.end()) {
        return PQexecPrepared(conn_, it->second.c_str(), static_cast<int>(params.size()),
                              ptrs_.data(), nullptr, nullptr, 0);
      }
    }
    return PQexecParams(conn_, sql_.c_str(), static_cast<int>(params.size()), nullptr, ptrs_.data(),
                        nullptr, nullptr, 0);
  }

  Status Check(PGresult* r) {
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return Status::Ok();
    std::string msg = RedactSecret(r ? PQresultErrorMessage(r) : PQerrorMessage(conn_), password_);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    if (msg.empty()) msg = RedactSecret(PQerrorMessage(conn_), password_);
    const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    std::string code = state ? state : "";
    msg = "postgresql: " + msg + (code.empty() ? "" : " (SQLSTATE " + code + ")");
    if (PQstatus(conn_) != CONNECTION_OK || code.empty()) return Status::Unavailable(msg);
    std::string_view cls = std::string_view(code).substr(0, 2);
    if (cls == "22" || cls == "23") return Status::InvalidArgument(msg);
    if (cls == "08" || cls == "40" || cls == "53" || cls == "57" || cls == "55") {
      return Status::Unavailable(msg);
    }
    if (cls == "28") return Status::Unauthenticated(msg);
    // 42P01 undefined table, 42703 undefined column, ...: the schema is not
    // what this build wrote; retrying cannot help.
    if (cls == "42") return Status::FailedPrecondition(msg);
    return Status::Internal(msg);
  }

  static constexpr size_t kMaxPrepared = 32;

  PGconn* conn_;
  std::string password_;
  size_t max_params_;  // the protocol's 16-bit parameter count, or lower
  std::unordered_map<std::string, std::string> prepared_;  // SQL -> statement name
  std::string sql_;
  std::string copy_;  // COPY data buffer, reused
  std::vector<std::string> values_;
  std::vector<const char*> ptrs_;
};

}  // namespace

Result<std::unique_ptr<Connection>> ConnectPostgres(const Dsn& dsn, const ConnectOptions& options) {
  // libpq gets the parsed parts as keywords, never the URI: its URI parser
  // ends the userinfo at the FIRST '@', so a password holding '@' would reach
  // it as part of the host name (and be quoted in "could not translate host
  // name"). Query parameters follow as keywords; ours come last and win.
  std::string timeout = std::to_string(std::max<int64_t>(
      2, std::chrono::duration_cast<std::chrono::seconds>(options.connect_timeout).count()));
  std::string host;
  if (!PercentDecodeComponent(dsn.host, host)) {
    return Status::InvalidArgument("postgresql: malformed percent-escape in the host");
  }
  std::vector<std::pair<std::string, std::string>> kv = {{"host", host}, {"dbname", dsn.database}};
  if (dsn.port) kv.emplace_back("port", std::to_string(dsn.port));
  if (!dsn.user.empty()) kv.emplace_back("user", dsn.user);
  if (!dsn.password.empty()) kv.emplace_back("password", dsn.password);
  for (std::string_view query = dsn.query; !query.empty();) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = pair.find('=');
    if (pair.empty() || eq == std::string_view::npos) continue;
    std::string key, value;
    if (!PercentDecodeComponent(pair.substr(0, eq), key) ||
        !PercentDecodeComponent(pair.substr(eq + 1), value)) {
      return Status::InvalidArgument("postgresql: malformed percent-escape in a query parameter");
    }
    if (key == "password" && !dsn.password.empty()) continue;  // already passed
    kv.emplace_back(std::move(key), std::move(value));
  }
  kv.emplace_back("connect_timeout", timeout);
  kv.emplace_back("application_name", "forcepipe");
  kv.emplace_back("client_encoding", "UTF8");
  std::vector<const char*> keys, values;
  for (const auto& [k, v] : kv) {
    keys.push_back(k.c_str());
    values.push_back(v.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* conn = PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/0);
  if (!conn) return Status::ResourceExhausted("postgresql: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string msg = log::Redact(RedactSecret(PQerrorMessage(conn), dsn.password));
    PQfinish(conn);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    msg = "postgresql: cannot connect to " + dsn.Redacted() + ": " + msg;
    if (msg.find("password authentication failed") != std::string::npos ||
        msg.find("no password supplied") != std::string::npos) {
      return Status::Unauthenticated(msg);
    }
    if (msg.find("does not exist") != std::string::npos) return Status::NotFound(msg);
    return Status::Unavailable(msg);
  }
  std::unique_ptr<Connection> c = std::make_unique<PostgresConnection>(
      conn, dsn.password,
      options.max_params > 0 ? std::min<size_t>(options.max_params, 65535) : 65535);
  // Quiet NOTICEs ("relation already exists, skipping") on migration.
  FP_RETURN_IF_ERROR(c->Execute("SET client_min_messages = warning"));
  return c;
}

}  // namespace forcepipe::sql
