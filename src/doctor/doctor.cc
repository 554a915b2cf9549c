#include "doctor/doctor.h"

#include <chrono>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "config/registry.h"
#include "core/log.h"

namespace forcepipe::doctor {
namespace {

FactoryContext ContextFor(const app::LoadedConfig& c, const std::string& name) {
  FactoryContext ctx;
  ctx.name = name;
  ctx.data_dir = c.top.GetString("data_dir");
  return ctx;
}

class Recorder {
 public:
  explicit Recorder(Report* r) : report_(r) {}
  // Runs `f` (which sets ok/detail) and records it with its duration.
  void Run(const std::string& name, const std::function<void(Check&)>& f) {
    Check c;
    c.name = name;
    auto t0 = std::chrono::steady_clock::now();
    f(c);
    c.millis =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    c.detail = log::Redact(c.detail);
    report_->checks.push_back(std::move(c));
  }
  // The DoctorRun a kind's own checks record through.
  DoctorRun AsDoctorRun() {
    return [this](const std::string& name, const std::function<void(DoctorCheck&)>& f) {
      Run(name, [&](Check& c) {
        DoctorCheck d;
        f(d);
        c.ok = d.ok;
        c.detail = std::move(d.detail);
      });
    };
  }
  void Fail(const std::string& name, const std::string& why) {
    Run(name, [&](Check& c) {
      c.ok = false;
      c.detail = why;
    });
  }

 private:
  Report* report_;
};

void CheckSink(const app::LoadedConfig& config, Recorder& rec) {
  const auto& s = config.sink;
  const std::string kind = s.factory ? s.factory->kind : "?";
  const std::string name = "sink " + s.name + " (" + kind + ")";
  std::unique_ptr<Sink> sink;
  rec.Run(name + ": start", [&](Check& c) {
    auto made = s.factory->create(s.node, ContextFor(config, s.name));
    if (!made.ok()) {
      c.detail = made.status().ToString();
      return;
    }
    sink = std::move(made).value();
    Status st = sink->Start();
    if (!st.ok()) {
      c.detail = st.ToString();
      sink.reset();
      return;
    }
    c.ok = true;
    c.detail = "started";
  });
  if (sink) sink->Stop();
  if (s.factory && s.factory->doctor)
    s.factory->doctor(s.node, ContextFor(config, s.name), name + ": ", rec.AsDoctorRun());
}

void CheckCheckpoints(const app::LoadedConfig& config, Recorder& rec) {
  std::string name = config.has_checkpoint
                         ? "checkpoint store (" +
                               (config.checkpoint.factory ? config.checkpoint.factory->kind : "?") +
                               ")"
                         : "checkpoint store (in sink " + config.sink.name + ")";
  rec.Run(name, [&](Check& c) {
    auto store = app::OpenCheckpointStore(config);
    if (!store.ok()) {
      c.detail = store.status().ToString();
      return;
    }
    auto all = (*store)->LoadAll();
    if (!all.ok()) {
      c.detail = "LoadAll: " + all.status().ToString();
      return;
    }
    c.ok = true;
    c.detail = std::to_string(all->size()) + " stored position(s)";
  });
}

}  // namespace

bool Report::ok() const {
  for (const auto& c : checks) {
    if (!c.ok) return false;
  }
  return !checks.empty();
}

Report Diagnose(const app::LoadedConfig& config) {
  Report report;
  Recorder rec(&report);
  rec.Run("config", [&](Check& c) {
    c.ok = true;
    c.detail = (config.file.empty() ? std::string("config") : config.file) + ": " +
               std::to_string(config.sources.size()) + " source(s), sink " + config.sink.name +
               " (" + (config.sink.factory ? config.sink.factory->kind : "?") + ")";
  });
  for (const auto& s : config.sources) {
    const std::string kind = s.factory ? s.factory->kind : "?";
    if (s.factory && s.factory->doctor) {
      s.factory->doctor(s.node, ContextFor(config, s.name), "source " + s.name + ": ",
                        rec.AsDoctorRun());
      continue;
    }
    rec.Run("source " + s.name + " (" + kind + ")", [&](Check& c) {
      auto made = s.factory->create(s.node, ContextFor(config, s.name));
      c.ok = made.ok();
      c.detail =
          made.ok() ? "constructed (this kind has no remote to check)" : made.status().ToString();
    });
  }
  CheckSink(config, rec);
  CheckCheckpoints(config, rec);
  return report;
}

void PrintReport(const Report& report, bool json, std::ostream& out) {
  if (json) {
    nlohmann::json j;
    j["ok"] = report.ok();
    j["checks"] = nlohmann::json::array();
    for (const auto& c : report.checks) {
      j["checks"].push_back(
          {{"name", c.name}, {"ok", c.ok}, {"detail", c.detail}, {"ms", c.millis}});
    }
    out << j.dump(2) << "\n";
    return;
  }
  size_t width = 5;
  for (const auto& c : report.checks) width = std::max(width, c.name.size());
  auto pad = [](const std::string& s, size_t w) {
    return s + std::string(w > s.size() ? w - s.size() : 0, ' ');
  };
  out << pad("CHECK", width) << "  RESULT  DETAIL\n";
  int failed = 0;
  for (const auto& c : report.checks) {
    if (!c.ok) ++failed;
    out << pad(c.name, width) << "  " << (c.ok ? "pass  " : "FAIL  ") << "  " << c.detail << "\n";
  }
  out << "\n"
      << (failed ? std::to_string(failed) + " of " + std::to_string(report.checks.size()) +
                       " checks failed"
                 : "all " + std::to_string(report.checks.size()) + " checks passed")
      << "\n";
}

int RunDoctor(const std::string& config_file, bool json, std::ostream& out) {
  Registry registry;
  if (Status st = app::RegisterBuiltins(registry); !st.ok()) {
    Report r;
    r.checks.push_back({"config", false, st.ToString(), 0});
    PrintReport(r, json, out);
    return 2;
  }
  auto loaded = app::LoadConfigFile(config_file, registry);
  if (!loaded.ok()) {
    Report r;
    r.checks.push_back({"config", false, log::Redact(loaded.status().ToString()), 0});
    PrintReport(r, json, out);
    return 2;
  }
  Report report = Diagnose(**loaded);
  PrintReport(report, json, out);
  return report.ok() ? 0 : 1;
}

}  // namespace forcepipe::doctor
