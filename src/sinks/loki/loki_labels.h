#pragma once

// Stream labels for Loki: the fixed allowlist, static labels from config,
// Prometheus label-set rendering with escaping, and tenant selection.
//
// Labels are low-cardinality by design: only names in kAllowedLabels become
// stream labels. Every other label an Entry carries is sent as structured
// metadata of each of its entries instead (see LabelPolicy::Resolve).
//
// Thread safety: LabelPolicy is immutable after Create; safe to share.

#include <array>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/entry.h"
#include "core/status.h"

namespace forcepipe::loki {

// The only label names that become Loki stream labels.
inline constexpr std::array<std::string_view, 7> kAllowedLabels = {
    "job", "service_name", "source", "event_type", "sf_org_id", "environment", "org"};

// Labels a config may never set statically: they name what an entry is.
inline constexpr std::array<std::string_view, 2> kSourceOwnedLabels = {"source", "event_type"};

// Set when neither the entry nor the config names a job.
inline constexpr std::string_view kDefaultJob = "forcepipe";

// [a-zA-Z_][a-zA-Z0-9_]*
bool IsValidLabelName(std::string_view name);
bool IsAllowedLabel(std::string_view name);

// Appends `value` with `\`, `"` and newline escaped as in a Prometheus label set.
void AppendEscapedLabelValue(std::string* out, std::string_view value);

// The resolved form of one LabelSet.
struct ResolvedLabels {
  std::string labels;  // {event_type="Login", job="forcepipe"}, names sorted
  std::string tenant;  // "" = no X-Scope-OrgID header
  // Labels of the entry that are not allowlisted: sent as structured metadata.
  // Point into the LabelSet passed to Resolve (the caller keeps it alive).
  std::vector<const Label*> extra_metadata;
};

class LabelPolicy {
 public:
  LabelPolicy() = default;

  // Validates static labels (names valid and allowlisted, never `source` or
  // `event_type`) and tenants (org value -> tenant, neither empty).
  static Result<LabelPolicy> Create(std::map<std::string, std::string> static_labels,
                                    std::string default_tenant,
                                    std::map<std::string, std::string> tenants);

  // Resolves the labels of an entry (`labels` may be null). Entry labels win
  // over static labels of the same name; empty values are dropped; `job`
  // defaults to kDefaultJob. The tenant is tenants[sf_org_id], else
  // tenants[org], else the default tenant.
  void Resolve(const LabelSet* labels, ResolvedLabels* out) const;

  const std::string& default_tenant() const { return default_tenant_; }

 private:
  std::map<std::string, std::string> static_labels_;
  std::string default_tenant_;
  std::map<std::string, std::string, std::less<>> tenants_;
};

}  // namespace forcepipe::loki
