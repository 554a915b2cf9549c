// RunHistoryCommand: config -> RunHistory. Separate from history.cc so that
// code using RunHistory directly does not link the config implementation.

#include "core/log.h"
#include "sinks/sql/history.h"
#include "sinks/sql/sql_sink.h"

namespace forcepipe {

int RunHistoryCommand(const config::Node& sink_section, const std::string& record_id, int limit,
                      const std::string& type, bool json, std::ostream& out, std::ostream& err) {
  auto options = sql::ParseSqlSinkOptions(sink_section);
  if (!options.ok()) {
    err << "forcepipe history: " << log::Redact(options.status().ToString()) << "\n";
    return 1;
  }
  return sql::RunHistory(options->store, record_id, limit, type, json, out, err);
}

}  // namespace forcepipe
