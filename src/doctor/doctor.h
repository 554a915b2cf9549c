#pragma once

// `forcepipe doctor -c FILE [--json]`: checks that a config can actually run,
// before it runs: the config loads; each pubsub source's credentials mint a
// token and each of its topics is visible to that user; the sink starts (and a
// Loki answers GET /ready); the checkpoint store opens and reads.
//
// Every check has a bounded wait (gRPC deadline, HTTP timeouts), so doctor
// never hangs on an unreachable endpoint. No secret is ever printed: details
// name flows, orgs, endpoints and error codes only, and every detail passes
// through log::Redact (the config loader registered every secret).
//
// Side effects: the sink is started and stopped (a jsonl sink creates its file,
// a sql sink creates its tables); nothing is pushed or committed.
//
// Thread safety: RunDoctor is reentrant; it uses the process-wide log redactor.

#include <ostream>
#include <string>
#include <vector>

#include "app/app.h"

namespace forcepipe::doctor {

struct Check {
  std::string name;  // e.g. "source salesforce: topic /data/AccountChangeEvent"
  bool ok = false;
  std::string detail;  // why it passed or failed; never a secret
  double millis = 0;   // how long the check took
};

struct Report {
  std::vector<Check> checks;
  bool ok() const;
};

// Runs every check on an already loaded config.
Report Diagnose(const app::LoadedConfig& config);

// The table (or, with `json`, a JSON document) operators read.
void PrintReport(const Report& report, bool json, std::ostream& out);

// Loads `config_file` with every built-in kind registered, runs Diagnose and
// prints the report. Returns 0 when every check passes, 1 when one fails, and 2
// when the config does not load (then one failed "config" check is printed).
int RunDoctor(const std::string& config_file, bool json, std::ostream& out);

}  // namespace forcepipe::doctor
