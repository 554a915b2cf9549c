#pragma once

// Helpers for the sql sink tests: entries, temp dirs, and per-test databases
// on the servers the ctest fixtures started (scripts/test-servers/).

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/entry.h"
#include "sinks/sql/connection.h"
#include "sinks/sql/dsn.h"
#include "testing/process.h"

namespace forcepipe::sql::testing {

inline std::string ReadDsnFile(const char* env) {
  const char* path = std::getenv(env);
  if (!path) return "";
  std::ifstream in(path);
  std::string dsn;
  std::getline(in, dsn);
  return dsn;
}

using TempDir = ::forcepipe::testing::TempDir;

inline std::string RandomSuffix() {
  static std::atomic<int> n{0};
  std::random_device rd;
  return std::to_string(getpid()) + "_" + std::to_string(n++) + "_" + std::to_string(rd() % 100000);
}

// A fresh, empty database for one test: a new SQLite file, or a new database
// on the PostgreSQL / MariaDB test server (dropped by the destructor).
class TestDatabase {
 public:
  // backend: "sqlite", "postgresql" or "mariadb". On failure, `error` is set.
  explicit TestDatabase(const std::string& backend) {
    if (backend == "sqlite") {
      dsn_text_ = "sqlite://" + dir_.path() + "/events.db";
      auto d = ParseDsn(dsn_text_);
      dsn_ = *d;
      return;
    }
    const char* env =
        backend == "postgresql" ? "FORCEPIPE_PG_DSN_FILE" : "FORCEPIPE_MARIADB_DSN_FILE";
    std::string base = ReadDsnFile(env);
    if (base.empty()) {
      error = std::string("no DSN: ") + env +
              " unset or empty (the ctest fixture starting the server failed?)";
      return;
    }
    auto d = ParseDsn(base);
    if (!d.ok()) {
      error = d.status().ToString();
      return;
    }
    base_ = *d;
    auto admin = Connect(base_, {});
    if (!admin.ok()) {
      error = admin.status().ToString();
      return;
    }
    name_ = "fp_" + RandomSuffix();
    Status s = (*admin)->Execute("CREATE DATABASE " + name_);
    if (!s.ok()) {
      error = s.ToString();
      return;
    }
    dsn_ = base_;
    dsn_.database = name_;
    dsn_text_ = base.substr(0, base.rfind('/') + 1) + name_;
    dsn_.original = dsn_text_;
  }
  ~TestDatabase() {
    if (name_.empty()) return;
    auto admin = Connect(base_, {});
    if (!admin.ok()) return;
    std::string sql = "DROP DATABASE IF EXISTS " + name_;
    if (base_.backend == Backend::kPostgres) sql += " WITH (FORCE)";
    (void)(*admin)->Execute(sql);
  }
  const Dsn& dsn() const { return dsn_; }
  const std::string& dsn_text() const { return dsn_text_; }
  const Dsn& server_dsn() const { return base_; }
  std::string error;

 private:
  TempDir dir_;
  Dsn base_;
  Dsn dsn_;
  std::string dsn_text_;
  std::string name_;
};

inline std::shared_ptr<const LabelSet> Labels(const std::string& event_type,
                                              const std::string& source = "pubsub") {
  return std::make_shared<const LabelSet>(
      LabelSet{{"source", source}, {"event_type", event_type}, {"sf_org_id", "00Dxx0000001"}});
}

struct EntrySpec {
  std::string id;  // event_id metadata ("" = none)
  std::string event_type = "AccountChangeEvent";
  int64_t ts_ms = 1'700'000'000'000;
  std::vector<ObjectRef> objects;
  std::string change_type = "UPDATE";
  std::string commit_user = "005xx000001Sv6e";
  std::string changed_fields;  // JSON array text
  std::string line;            // default: {"id": ...}
  std::string checkpoint_key = "pubsub:acme:/data/AccountChangeEvent";
  std::string checkpoint_value;  // default: id
};

inline Entry MakeEntry(const EntrySpec& s) {
  Entry e;
  e.timestamp_ns = s.ts_ms * 1'000'000;
  e.labels = Labels(s.event_type);
  e.line = s.line.empty() ? "{\"id\":\"" + s.id + "\",\"Name\":\"Acme\"}" : s.line;
  if (!s.id.empty()) e.structured_metadata.push_back({"event_id", s.id});
  e.structured_metadata.push_back({"replay_id", "AAAA" + s.id});
  if (!s.change_type.empty()) e.structured_metadata.push_back({"change_type", s.change_type});
  if (!s.commit_user.empty()) e.structured_metadata.push_back({"commit_user", s.commit_user});
  e.structured_metadata.push_back({"transaction_key", "tx-" + s.id});
  if (!s.changed_fields.empty()) {
    e.structured_metadata.push_back({"changed_fields", s.changed_fields});
  }
  e.objects = s.objects;
  e.checkpoint = {s.checkpoint_key, s.checkpoint_value.empty() ? s.id : s.checkpoint_value};
  e.byte_size = e.ComputeByteSize();
  return e;
}

// count(*) of `table` via a separate connection.
inline int64_t CountRows(const Dsn& dsn, const std::string& table, const std::string& where = "") {
  auto c = Connect(dsn, {});
  if (!c.ok()) {
    ADD_FAILURE() << c.status().ToString();
    return -1;
  }
  auto rows =
      (*c)->Query("SELECT count(*) FROM " + table + (where.empty() ? "" : " WHERE " + where));
  if (!rows.ok()) {
    ADD_FAILURE() << rows.status().ToString();
    return -1;
  }
  return std::stoll(rows->at(0).at(0).value_or("-1"));
}

}  // namespace forcepipe::sql::testing
