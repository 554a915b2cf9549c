#include "cli/commands.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "app/app.h"
#include "cli/demo.h"
#include "config/loader.h"
#include "config/node.h"
#include "core/log.h"

namespace forcepipe::cli {

int SyntheticDemo(const Options& o);

namespace {

constexpr int kOk = 0;
constexpr int kRuntime = 1;
constexpr int kConfig = 2;

Registry& Builtins() {
  static Registry r = [] {
    Registry reg;
    Status s = app::RegisterBuiltins(reg);
    if (!s.ok()) {
      std::fprintf(stderr, "forcepipe: internal error registering components: %s\n",
                   s.ToString().c_str());
      std::exit(kRuntime);
    }
    return reg;
  }();
  return r;
}

void PrintError(const std::string& what, const Status& s) {
  std::fprintf(stderr, "forcepipe: %s: %s\n", what.c_str(), log::Redact(s.message()).c_str());
}

// Takes SIGINT/SIGTERM on its own thread: the first asks `stop` to run, the
// second exits at once.
class SignalWatcher {
 public:
  explicit SignalWatcher(std::function<void()> stop) : stop_(std::move(stop)) {
    thread_ = std::thread([this] { Loop(); });
  }
  ~SignalWatcher() {
    done_ = true;
    thread_.join();
  }
  bool signalled() const { return count_ > 0; }

 private:
  void Loop() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    timespec ts{0, 100 * 1000 * 1000};
    while (!done_) {
      int sig = sigtimedwait(&set, nullptr, &ts);
      if (sig < 0) continue;
      if (++count_ == 1) {
        log::Get("cli")->info("received {}; stopping (send again to exit at once)",
                              sig == SIGINT ? "SIGINT" : "SIGTERM");
        stop_();
      } else {
        std::fprintf(stderr, "forcepipe: second signal, exiting now\n");
        _exit(130);
      }
    }
  }
  std::function<void()> stop_;
  std::atomic<bool> done_{false};
  std::atomic<int> count_{0};
  std::thread thread_;
};

Result<std::unique_ptr<app::LoadedConfig>> Load(const std::string& file) {
  return app::LoadConfigFile(file, Builtins());
}

int RunEngine(const app::LoadedConfig& c,
              const std::function<void(Engine&, std::atomic<bool>&)>& observer,
              const std::function<void(const std::string&)>& on_server = nullptr) {
  auto engine = app::BuildEngine(c);
  if (!engine.ok()) {
    PrintError("startup", engine.status());
    return engine.status().code() == StatusCode::kInvalidArgument ? kConfig : kRuntime;
  }
  Engine& e = **engine;
  auto server = app::StartServer(c, e, kVersion);
  if (!server.ok()) {
    PrintError("startup", server.status());
    return kRuntime;
  }
  if (*server && on_server) on_server((*server)->base_url());
  SignalWatcher signals([&] { e.RequestStop(); });
  std::atomic<bool> finished{false};
  std::thread obs;
  if (observer) obs = std::thread([&] { observer(e, finished); });
  Status s = e.Run();
  finished = true;
  if (obs.joinable()) obs.join();
  if (*server) (*server)->Stop();
  if (!s.ok()) {
    PrintError("run failed", s);
    return kRuntime;
  }
  return kOk;
}

}  // namespace

int Run(const Options& o) {
  auto c = Load(o.config_file);
  if (!c.ok()) {
    PrintError("config", c.status());
    return kConfig;
  }
  return RunEngine(**c, nullptr);
}

int ConfigCheck(const Options& o) {
  auto c = Load(o.config_file);
  if (!c.ok()) {
    PrintError("config", c.status());
    return kConfig;
  }
  std::printf("%s: ok (%zu source(s), sink %s of type %s)\n", o.config_file.c_str(),
              (*c)->sources.size(), (*c)->sink.name.c_str(), (*c)->sink.factory->kind.c_str());
  return kOk;
}

int ConfigExample() {
  std::fputs(app::RenderExampleConfig(Builtins()).c_str(), stdout);
  return kOk;
}

namespace {
Result<std::shared_ptr<CheckpointStore>> OpenStore(const Options& o, int* code) {
  auto c = Load(o.config_file);
  if (!c.ok()) {
    *code = kConfig;
    return c.status();
  }
  auto s = app::OpenCheckpointStore(**c);
  if (!s.ok()) *code = kRuntime;
  return s;
}
}  // namespace

int StateShow(const Options& o) {
  int code = kOk;
  auto store = OpenStore(o, &code);
  if (!store.ok()) {
    PrintError("state", store.status());
    return code;
  }
  if (!o.key.empty()) {
    auto v = (*store)->Load(o.key);
    if (!v.ok()) {
      PrintError("state", v.status());
      return kRuntime;
    }
    if (!v->has_value()) {
      std::fprintf(stderr, "forcepipe: state: no checkpoint for key %s\n", o.key.c_str());
      return kRuntime;
    }
    std::printf("%s\t%s\n", o.key.c_str(), (*v)->c_str());
    return kOk;
  }
  auto all = (*store)->LoadAll();
  if (!all.ok()) {
    PrintError("state", all.status());
    return kRuntime;
  }
  for (const auto& [k, v] : *all) std::printf("%s\t%s\n", k.c_str(), v.c_str());
  return kOk;
}

int StateSet(const Options& o) {
  int code = kOk;
  auto store = OpenStore(o, &code);
  if (!store.ok()) {
    PrintError("state", store.status());
    return code;
  }
  CommitRequest r;
  r.set[o.key] = o.value;
  Status s = (*store)->Commit(r);
  if (!s.ok()) {
    PrintError("state set", s);
    return kRuntime;
  }
  std::printf("%s\t%s\n", o.key.c_str(), o.value.c_str());
  return kOk;
}

int StateDelete(const Options& o) {
  int code = kOk;
  auto store = OpenStore(o, &code);
  if (!store.ok()) {
    PrintError("state", store.status());
    return code;
  }
  CommitRequest r;
  r.erase.push_back(o.key);
  Status s = (*store)->Commit(r);
  if (!s.ok()) {
    PrintError("state delete", s);
    return kRuntime;
  }
  std::printf("deleted %s\n", o.key.c_str());
  return kOk;
}

int Demo(const Options& o) {
#if defined(FORCEPIPE_WITH_EMULATOR) && defined(FORCEPIPE_WITH_PUBSUB) && \
    defined(FORCEPIPE_WITH_SINK_SQL)
  return RealDemo(o, [&](const std::string& path,
                         const std::function<void(Engine&, std::atomic<bool>&)>& observer) {
    auto c = Load(path);
    if (!c.ok()) {
      PrintError("demo config", c.status());
      return kConfig;
    }
    return RunEngine(**c, observer, [](const std::string& url) {
      std::fprintf(stderr, "  status page: %s/status   metrics: %s/metrics\n\n", url.c_str(),
                   url.c_str());
    });
  });
#else
  return SyntheticDemo(o);
#endif
}

int SyntheticDemo(const Options& o) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(o.demo_dir, ec);
  if (ec) {
    std::fprintf(stderr, "forcepipe: demo: cannot create %s: %s\n", o.demo_dir.c_str(),
                 ec.message().c_str());
    return kRuntime;
  }
  Duration limit{0};
  if (!o.duration.empty()) {
    auto d = config::ParseDuration(o.duration);
    if (!d.ok()) {
      std::fprintf(stderr,
                   "forcepipe: demo: --duration: expected a duration like 30s, got \"%s\"\n",
                   o.duration.c_str());
      return kConfig;
    }
    limit = *d;
  }
  fs::path dir = fs::absolute(o.demo_dir);
  std::string cfg_path = (dir / "forcepipe-demo.yaml").string();
  std::string out_path = (dir / "events.jsonl").string();
  {
    std::ofstream cfg(cfg_path);
    cfg << "# Written by `forcepipe demo`. Until the Salesforce emulator lands, the demo streams "
           "the\n"
           "# synthetic source into a JSON-lines file.\n"
        << "data_dir: " << (dir / "data").string() << "\n"
        << "checkpoint:\n  type: file\n  path: " << (dir / "checkpoints.json").string() << "\n"
        << "sources:\n  demo:\n    type: synthetic\n    rate: " << o.rate
        << "\n    keys: 4\n    entry_size: 300\n"
        << "sinks:\n  events:\n    type: jsonl\n    path: " << out_path << "\n"
        << "    batch: {max_entries: 500, interval: 250ms}\n"
        << "server:\n  listen: " << o.listen << "\n";
  }
  std::fprintf(stderr,
               "forcepipe demo: synthetic events -> %s\n"
               "  (the Salesforce emulator and SQLite store replace this in a later release)\n"
               "  config: %s\n  stop with Ctrl-C%s\n\n",
               out_path.c_str(), cfg_path.c_str(), limit.count() ? " or after --duration" : "");
  auto c = Load(cfg_path);
  if (!c.ok()) {
    PrintError("demo config", c.status());
    return kConfig;
  }
  const bool tty = isatty(STDERR_FILENO);
  uint64_t total = 0;
  auto started = std::chrono::steady_clock::now();
  int rc = RunEngine(
      **c,
      [&](Engine& e, std::atomic<bool>& finished) {
        uint64_t last = 0;
        auto last_t = std::chrono::steady_clock::now();
        auto next_print = last_t;
        while (!finished) {
          std::this_thread::sleep_for(std::chrono::milliseconds(100));  // progress refresh tick
          auto now = std::chrono::steady_clock::now();
          if (limit.count() && now - started >= limit) e.RequestStop();
          if (now < next_print) continue;
          next_print = now + (tty ? std::chrono::seconds(1) : std::chrono::seconds(5));
          const auto& st = e.lane(LaneKind::kStreaming)->stats();
          uint64_t delivered = st.entries_delivered.load();
          double secs = std::chrono::duration<double>(now - last_t).count();
          double rate = secs > 0 ? (delivered - last) / secs : 0;
          last = delivered;
          last_t = now;
          total = delivered;
          auto committed = e.committed();
          std::fprintf(
              stderr,
              "%s  delivered %llu events | %.0f events/s | queue %zu | %zu streams checkpointed%s",
              tty ? "\r" : "", static_cast<unsigned long long>(delivered), rate,
              e.lane(LaneKind::kStreaming)->queued_entries(), committed.size(), tty ? "   " : "\n");
        }
        total = e.lane(LaneKind::kStreaming)->stats().entries_delivered.load();
      },
      [&](const std::string& url) {
        std::fprintf(stderr, "  status page: %s/status   metrics: %s/metrics\n\n", url.c_str(),
                     url.c_str());
      });
  if (tty) std::fputs("\n", stderr);
  std::fprintf(
      stderr,
      "\nforcepipe demo: delivered %llu events this run.\n"
      "Try:\n"
      "  tail -n 2 %s\n"
      "  forcepipe state show -c %s\n"
      "  forcepipe demo   # again: it resumes where it stopped, no event lost or repeated\n",
      static_cast<unsigned long long>(total), out_path.c_str(), cfg_path.c_str());
  return rc;
}

}  // namespace forcepipe::cli
