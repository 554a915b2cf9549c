#include "sinks/sql/history.h"

#include <ctime>
#include <nlohmann/json.hpp>

#include "core/log.h"
#include "sinks/sql/sql_sink.h"

namespace forcepipe::sql {
namespace {

std::string IsoTime(int64_t ts_ms) {
  std::time_t secs = static_cast<std::time_t>(ts_ms / 1000);
  int ms = static_cast<int>(ts_ms % 1000);
  if (ms < 0) {
    ms += 1000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

const nlohmann::json* Lookup(const nlohmann::json& payload, const std::string& field) {
  if (!payload.is_object()) return nullptr;
  auto it = payload.find(field);
  if (it != payload.end()) return &*it;
  // Compound field "Name.FirstName".
  const nlohmann::json* cur = &payload;
  size_t start = 0;
  while (start <= field.size()) {
    size_t dot = field.find('.', start);
    std::string part =
        field.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!cur->is_object()) return nullptr;
    auto p = cur->find(part);
    if (p == cur->end()) return nullptr;
    cur = &*p;
    if (dot == std::string::npos) return cur;
    start = dot + 1;
  }
  return nullptr;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> ChangedValues(const std::string& payload,
                                                               const std::string& changed_fields) {
  std::vector<std::pair<std::string, std::string>> out;
  // Third-party exceptions stop here.
  nlohmann::json fields =
      nlohmann::json::parse(changed_fields, nullptr, /*allow_exceptions=*/false);
  nlohmann::json doc = nlohmann::json::parse(payload, nullptr, false);
  if (!fields.is_array()) return out;
  for (const auto& f : fields) {
    if (!f.is_string()) continue;
    const std::string name = f.get<std::string>();
    const nlohmann::json* v = doc.is_discarded() ? nullptr : Lookup(doc, name);
    out.emplace_back(
        name, v ? v->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) : "null");
  }
  return out;
}

void PrintHistory(const std::vector<HistoryRow>& rows, bool json, std::ostream& out) {
  if (json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& r : rows) {
      nlohmann::json o;
      o["event_uuid"] = r.event_uuid;
      o["time"] = IsoTime(r.ts_ms);
      o["ts_ms"] = r.ts_ms;
      o["change_type"] = r.change_type ? nlohmann::json(*r.change_type) : nlohmann::json();
      o["event_type"] = r.event_type;
      o["object_type"] = r.object_type;
      o["commit_user"] = r.commit_user ? nlohmann::json(*r.commit_user) : nlohmann::json();
      o["transaction_key"] =
          r.transaction_key ? nlohmann::json(*r.transaction_key) : nlohmann::json();
      o["replay_position"] = r.replay_position;
      o["source"] = r.source;
      nlohmann::json changed = nlohmann::json::object();
      if (r.changed_fields) {
        for (auto& [k, v] : ChangedValues(r.payload, *r.changed_fields)) {
          changed[k] = nlohmann::json::parse(v, nullptr, false);
        }
      }
      o["changed_fields"] = changed;
      nlohmann::json payload = nlohmann::json::parse(r.payload, nullptr, false);
      o["payload"] = payload.is_discarded() ? nlohmann::json(r.payload) : payload;
      arr.push_back(std::move(o));
    }
    out << arr.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return;
  }
  if (rows.empty()) {
    out << "no events\n";
    return;
  }
  for (const auto& r : rows) {
    out << IsoTime(r.ts_ms) << "  " << r.change_type.value_or("-") << "  " << r.event_type << "  "
        << r.object_type << "  user " << r.commit_user.value_or("-") << "  event " << r.event_uuid
        << "\n";
    if (r.changed_fields) {
      for (auto& [k, v] : ChangedValues(r.payload, *r.changed_fields)) {
        out << "    " << k << " = " << v << "\n";
      }
    }
  }
}

int RunHistory(const StoreOptions& options, const std::string& record_id, int limit,
               const std::string& type, bool json, std::ostream& out, std::ostream& err) {
  SqlStore store(options, Clock::Real());
  Status s = store.OpenExisting();
  if (!s.ok()) {
    err << "forcepipe history: " << log::Redact(RedactSecret(s.ToString(), options.dsn.password))
        << "\n";
    return 1;
  }
  auto rows = store.QueryHistory(record_id, limit, type);
  if (!rows.ok()) {
    err << "forcepipe history: "
        << log::Redact(RedactSecret(rows.status().ToString(), options.dsn.password)) << "\n";
    return 1;
  }
  PrintHistory(*rows, json, out);
  return 0;
}

}  // namespace forcepipe::sql
