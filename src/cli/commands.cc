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
  // Everything `run` checks before it starts, without connecting to anything.
  Status s = app::CheckConfig(**c);
  if (!s.ok()) {
    PrintError("config", s.WithContext(o.config_file));
    return s.code() == StatusCode::kInvalidArgument ? kConfig : kRuntime;
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

namespace {

// Applies one change to the checkpoint store and prints `done` on success.
int CommitState(const Options& o, const CommitRequest& r, const char* verb,
                const std::string& done) {
  int code = kOk;
  auto store = OpenStore(o, &code);
  if (!store.ok()) {
    PrintError("state", store.status());
    return code;
  }
  Status s = (*store)->Commit(r);
  if (!s.ok()) {
    PrintError(verb, s);
    return kRuntime;
  }
  std::printf("%s\n", done.c_str());
  return kOk;
}

}  // namespace

namespace {

// `state set` writes only a position some configured source will read back:
// the key must be one of a source's checkpoint keys and the value parse as
// that source's position (Source::CheckPosition). Returns a config error.
Status CheckStatePosition(const app::LoadedConfig& c, const std::string& key,
                          const std::string& value) {
  std::string owners;
  for (const auto& s : c.sources) {
    FactoryContext ctx;
    ctx.name = s.name;
    ctx.data_dir = c.top.GetString("data_dir");
    auto src = s.factory->create(s.node, ctx);
    if (!src.ok()) return src.status().WithContext(s.path);
    Status st = (*src)->CheckPosition(key, value);
    if (st.ok()) return st;
    if (st.code() != StatusCode::kNotFound) {
      return Status::InvalidArgument(st.message()).WithContext("source " + s.name);
    }
    owners += (owners.empty() ? "" : "; ") + st.message();
  }
  return Status::InvalidArgument("no configured source reads checkpoint key " + key + " (" +
                                 owners + "); nothing was written");
}

}  // namespace

int StateSet(const Options& o) {
  {
    auto c = Load(o.config_file);
    if (!c.ok()) {
      PrintError("config", c.status());
      return kConfig;
    }
    Status valid = CheckStatePosition(**c, o.key, o.value);
    if (!valid.ok()) {
      PrintError("state set", valid);
      return kConfig;
    }
  }
  CommitRequest r;
  r.set[o.key] = o.value;
  return CommitState(o, r, "state set", o.key + "\t" + o.value);
}

int StateDelete(const Options& o) {
  CommitRequest r;
  r.erase.push_back(o.key);
  return CommitState(o, r, "state delete", "deleted " + o.key);
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
  (void)o;
  std::fprintf(stderr,
               "forcepipe: demo: this build has no emulator, Pub/Sub source or SQL sink "
               "(built with FORCEPIPE_ONLY?); build the release preset\n");
  return kConfig;
#endif
}

}  // namespace forcepipe::cli
