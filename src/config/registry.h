#pragma once

// Typed factories: one per kind, registered by name. The composition root
// (src/app) turns config into objects through these. Duplicate names are an
// error.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/node.h"
#include "config/options.h"
#include "core/checkpoint_store.h"
#include "core/clock.h"
#include "core/sink.h"
#include "core/source.h"
#include "core/status.h"

namespace forcepipe {

// What a factory may use beyond its own config section.
struct FactoryContext {
  std::string name;  // the instance name, e.g. "loki" in sinks.loki
  const Clock* clock = Clock::Real();
  std::string data_dir;  // where components keep local files (dead letters, ...)
};

// Optional capability of a kind: its own `forcepipe doctor` checks. `run(name,
// f)` records one check named `name`: f sets ok and detail (never a secret;
// the doctor redacts and times it). Every wait inside must be bounded.
struct DoctorCheck {
  bool ok = false;
  std::string detail;
};
using DoctorRun =
    std::function<void(const std::string& name, const std::function<void(DoctorCheck&)>&)>;
using DoctorChecks = std::function<void(const config::Node&, const FactoryContext&,
                                        const std::string& prefix, const DoctorRun& run)>;

template <typename T>
struct Factory {
  std::string kind;  // the `type:` value
  std::string description;
  // The kind's own options. The composition root adds the keys every instance
  // of the seam shares (`type`; for sinks also `batch`, `max_in_flight`,
  // `retry`), so a kind's table must not declare them.
  const config::OptionTable* options = nullptr;
  std::function<Result<std::unique_ptr<T>>(const config::Node&, const FactoryContext&)> create;
  // Optional: the kind's doctor checks, check names starting with `prefix`.
  // For a source they replace the default "constructed" check; for a sink they
  // run after its start check.
  DoctorChecks doctor;
};

using SourceFactory = Factory<Source>;
using SinkFactory = Factory<Sink>;
using CheckpointStoreFactory = Factory<CheckpointStore>;

template <typename T>
class TypedRegistry {
 public:
  Status Register(Factory<T> f) {
    if (!f.options || !f.create)
      return Status::InvalidArgument("factory " + f.kind + " is incomplete");
    auto [it, inserted] = factories_.emplace(f.kind, std::move(f));
    if (!inserted) return Status::AlreadyExists("duplicate factory name: " + it->first);
    return Status::Ok();
  }
  const Factory<T>* Find(const std::string& kind) const {
    auto it = factories_.find(kind);
    return it == factories_.end() ? nullptr : &it->second;
  }
  std::vector<std::string> Kinds() const {
    std::vector<std::string> out;
    for (const auto& [k, _] : factories_) out.push_back(k);
    return out;
  }

 private:
  std::map<std::string, Factory<T>> factories_;
};

struct Registry {
  TypedRegistry<Source> sources;
  TypedRegistry<Sink> sinks;
  TypedRegistry<CheckpointStore> checkpoint_stores;
};

}  // namespace forcepipe
