// `forcepipe demo`: the embedded Salesforce emulator (CDC for Account and
// Contact, LoginEventStream, a platform event) streaming through the Pub/Sub
// source into the embedded SQLite store, with the status page, a live
// progress line, and a summary with example queries.

#include "cli/demo.h"

#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "config/node.h"
#include "core/log.h"
#include "emulator/emulator.h"

namespace forcepipe::cli {
namespace {

std::string Query1(sqlite3* db, const char* sql) {
  sqlite3_stmt* st = nullptr;
  std::string out;
  if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW) {
    const unsigned char* t = sqlite3_column_text(st, 0);
    if (t) out = reinterpret_cast<const char*>(t);
  }
  sqlite3_finalize(st);
  return out;
}

}  // namespace

int RealDemo(const Options& o, const DemoRunner& run) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path dir = fs::absolute(o.demo_dir);
  fs::create_directories(dir, ec);
  if (ec) {
    std::fprintf(stderr, "forcepipe: demo: cannot create %s: %s\n", dir.c_str(),
                 ec.message().c_str());
    return 1;
  }
  Duration limit{0};
  if (!o.duration.empty()) {
    auto d = config::ParseDuration(o.duration);
    if (!d.ok()) {
      std::fprintf(stderr,
                   "forcepipe: demo: --duration: expected a duration like 30s, got \"%s\"\n",
                   o.duration.c_str());
      return 2;
    }
    limit = *d;
  }
  // Each run starts from a fresh emulator, so it starts from a fresh store.
  const fs::path db = dir / "events.db";
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db.string() + suffix, ec);

  emulator::EmulatorOptions eo;
  eo.plaintext = true;
  eo.rate = o.rate;
  eo.seed = 42;
  emulator::Emulator emu(eo);
  if (Status s = emu.Start(); !s.ok()) {
    std::fprintf(stderr, "forcepipe: demo: emulator: %s\n", s.ToString().c_str());
    return 1;
  }
  const auto& ep = emu.endpoints();
  std::string cfg_path = (dir / "forcepipe-demo.yaml").string();
  {
    std::ofstream cfg(cfg_path);
    cfg << "# Written by `forcepipe demo`: the embedded Salesforce emulator -> Pub/Sub -> SQLite.\n"
        << "# The emulator is gone when the demo ends; the store stays for `forcepipe history`.\n"
        << "data_dir: " << (dir / "data").string() << "\n"
        << "sources:\n  salesforce:\n    type: pubsub\n    endpoint: " << ep.grpc_endpoint << "\n"
        << "    plaintext: true\n    org: demo\n"
        << "    topics: [/data/AccountChangeEvent, /data/ContactChangeEvent, "
           "/event/LoginEventStream, "
           "/event/Order_Event__e]\n"
        << "    auth:\n      flow: client_credentials\n      login_url: " << ep.http_endpoint
        << "\n"
        << "      client_id: " << eo.oauth.client_id
        << "\n      client_secret: " << eo.oauth.client_secret << "\n"
        << "sinks:\n  store:\n    type: sql\n    dsn: sqlite://" << db.string() << "\n"
        << "    batch: {max_entries: 1000, interval: 200ms}\n"
        << "server:\n  listen: " << o.listen << "\n";
  }
  std::fprintf(stderr,
               "forcepipe demo: Salesforce emulator (%s) -> Pub/Sub source -> SQLite %s\n"
               "  topics: AccountChangeEvent, ContactChangeEvent (CDC), LoginEventStream (RTEM), "
               "Order_Event__e\n"
               "  config: %s\n  stop with Ctrl-C%s\n",
               ep.grpc_endpoint.c_str(), db.c_str(), cfg_path.c_str(),
               limit.count() ? " or after --duration" : "");

  uint64_t total = 0;
  // The generator is paused the moment a stop is requested (--duration or a signal), so
  // the summary can say exactly which emitted events the source never fetched.
  uint64_t emitted_at_stop = 0;
  bool paused = false;
  const bool tty = isatty(STDERR_FILENO);
  auto started = std::chrono::steady_clock::now();
  int rc = run(cfg_path, [&](Engine& e, std::atomic<bool>& finished) {
    uint64_t last = 0;
    auto last_t = std::chrono::steady_clock::now();
    auto next_print = last_t;
    while (!finished) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // progress refresh tick
      auto now = std::chrono::steady_clock::now();
      if (limit.count() && now - started >= limit) e.RequestStop();
      if (e.stop_requested() && !paused) {
        emu.generator().Pause();
        emitted_at_stop = emu.generator().emitted();
        paused = true;
      }
      if (now < next_print) continue;
      // A terminal gets one line rewritten every second; a pipe or file a plain line
      // every 5 s, so CI logs and `| tee` stay readable.
      next_print = now + (tty ? std::chrono::seconds(1) : std::chrono::seconds(5));
      uint64_t delivered = e.lane(LaneKind::kStreaming)->stats().entries_delivered.load();
      double secs = std::chrono::duration<double>(now - last_t).count();
      double rate = secs > 0 ? (delivered - last) / secs : 0;
      last = delivered;
      last_t = now;
      total = delivered;
      double lag = 0;
      for (const auto& s : e.source_status()) {
        int64_t ts = s->last_event_unix_ns.load();
        if (ts) lag = std::max(lag, static_cast<double>(Clock::Real()->NowUnixNanos() - ts) / 1e9);
      }
      std::fprintf(stderr,
                   "%sforcepipe demo: progress: stored %llu events | %.0f events/s | lag %.1fs | "
                   "emulator emitted %llu%s",
                   tty ? "\r" : "", static_cast<unsigned long long>(delivered), rate, lag,
                   static_cast<unsigned long long>(emu.generator().emitted()), tty ? "   " : "\n");
    }
    total = e.lane(LaneKind::kStreaming)->stats().entries_delivered.load();
  });
  if (!paused) {  // the engine ended on its own (an error): nothing more is fetched either
    emu.generator().Pause();
    emitted_at_stop = emu.generator().emitted();
  }
  emu.Stop();
  if (tty) std::fputs("\n", stderr);

  sqlite3* h = nullptr;
  std::string by_type, record, stored;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    stored = Query1(h, "SELECT count(*) FROM events");
    by_type = Query1(h,
                     "SELECT group_concat(event_type || ': ' || n, ', ') FROM "
                     "(SELECT event_type, count(*) AS n FROM events GROUP BY 1 ORDER BY 2 DESC)");
    record = Query1(h,
                    "SELECT object_id FROM event_objects WHERE object_type = 'Account' "
                    "GROUP BY object_id ORDER BY count(*) DESC, object_id LIMIT 1");
  }
  sqlite3_close(h);
  const uint64_t stored_n = stored.empty() ? 0 : std::strtoull(stored.c_str(), nullptr, 10);
  std::fprintf(stderr, "\nforcepipe demo: %llu events stored in %s\n  by type: %s\n",
               static_cast<unsigned long long>(stored_n), db.c_str(),
               by_type.empty() ? "-" : by_type.c_str());
  if (stored_n == emitted_at_stop) {
    std::fprintf(stderr, "  the emulator emitted %llu: every one of them is stored\n",
                 static_cast<unsigned long long>(emitted_at_stop));
  } else if (stored_n < emitted_at_stop) {
    std::fprintf(stderr,
                 "  the emulator emitted %llu: %llu of them were not yet fetched when the source "
                 "stopped (they stay in the emulator's retention; a run that resumes from the "
                 "stored position fetches them)\n",
                 static_cast<unsigned long long>(emitted_at_stop),
                 static_cast<unsigned long long>(emitted_at_stop - stored_n));
  } else {
    std::fprintf(stderr, "  the emulator emitted %llu, fewer than stored: this is a bug\n",
                 static_cast<unsigned long long>(emitted_at_stop));
    if (rc == 0) rc = 1;
  }
  if (total != stored_n) {
    std::fprintf(stderr,
                 "  the sink reported %llu deliveries for %llu rows: re-deliveries after a retry "
                 "are stored once (idempotent on the event id)\n",
                 static_cast<unsigned long long>(total), static_cast<unsigned long long>(stored_n));
  }
  // The binary as the user can type it (after a build it is usually not on PATH).
  std::error_code pe;
  fs::path self = fs::read_symlink("/proc/self/exe", pe);
  std::string bin = "forcepipe";
  if (!pe) {
    fs::path rel = fs::relative(self, fs::current_path(), pe);
    bin = (pe || rel.empty()) ? self.string() : rel.string();
  }
  std::fprintf(
      stderr,
      "\nTry:\n"
      "  %s history %s -c %s\n"
      "  sqlite3 %s \"SELECT event_type, change_type, count(*) FROM events GROUP BY 1, 2\"\n"
      "  sqlite3 %s \"SELECT datetime(ts_ms/1000, 'unixepoch'), commit_user, changed_fields FROM "
      "events WHERE event_type = 'AccountChangeEvent' ORDER BY ts_ms DESC LIMIT 5\"\n",
      bin.c_str(), record.empty() ? "<an Account id>" : record.c_str(), cfg_path.c_str(),
      db.c_str(), db.c_str());
  return rc;
}

}  // namespace forcepipe::cli
