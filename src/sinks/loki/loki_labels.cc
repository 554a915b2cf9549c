#include "sinks/loki/loki_labels.h"

#include <algorithm>

namespace forcepipe::loki {

bool IsValidLabelName(std::string_view name) {
  if (name.empty()) return false;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!alpha(name[0])) return false;
  return std::all_of(name.begin() + 1, name.end(),
                     [&](char c) { return alpha(c) || (c >= '0' && c <= '9'); });
}

bool IsAllowedLabel(std::string_view name) {
  return std::find(kAllowedLabels.begin(), kAllowedLabels.end(), name) != kAllowedLabels.end();
}

void AppendEscapedLabelValue(std::string* out, std::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\':
        out->append("\\\\");
        break;
      case '"':
        out->append("\\\"");
        break;
      case '\n':
        out->append("\\n");
        break;
      default:
        out->push_back(c);
    }
  }
}

Result<LabelPolicy> LabelPolicy::Create(std::map<std::string, std::string> static_labels,
                                        std::string default_tenant,
                                        std::map<std::string, std::string> tenants) {
  for (const auto& [name, value] : static_labels) {
    if (!IsValidLabelName(name)) {
      return Status::InvalidArgument("static label name \"" + name +
                                     "\" is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*)");
    }
    if (std::find(kSourceOwnedLabels.begin(), kSourceOwnedLabels.end(), name) !=
        kSourceOwnedLabels.end()) {
      return Status::InvalidArgument("static label \"" + name +
                                     "\" is set by sources and may not be configured");
    }
    if (!IsAllowedLabel(name)) {
      return Status::InvalidArgument(
          "static label \"" + name +
          "\" is not in the label allowlist (job, service_name, sf_org_id, environment, org); "
          "high-cardinality values belong in structured metadata");
    }
    if (value.empty()) return Status::InvalidArgument("static label \"" + name + "\" is empty");
  }
  for (const auto& [org, tenant] : tenants) {
    if (org.empty() || tenant.empty()) {
      return Status::InvalidArgument("tenants: org and tenant must both be non-empty");
    }
  }
  LabelPolicy p;
  p.static_labels_ = std::move(static_labels);
  p.default_tenant_ = std::move(default_tenant);
  p.tenants_.insert(tenants.begin(), tenants.end());
  return p;
}

void LabelPolicy::Resolve(const LabelSet* labels, ResolvedLabels* out) const {
  out->labels.clear();
  out->tenant.clear();
  out->extra_metadata.clear();
  // At most 7 allowlisted names: a fixed array, no allocation.
  std::array<std::pair<std::string_view, std::string_view>, kAllowedLabels.size()> chosen;
  size_t n = 0;
  auto find = [&](std::string_view name) -> std::string_view* {
    for (size_t i = 0; i < n; ++i) {
      if (chosen[i].first == name) return &chosen[i].second;
    }
    return nullptr;
  };
  if (labels) {
    for (const Label& l : *labels) {
      if (!IsAllowedLabel(l.name)) {
        out->extra_metadata.push_back(&l);
        continue;
      }
      if (l.value.empty() || find(l.name)) continue;  // first occurrence wins
      chosen[n++] = {l.name, l.value};
    }
  }
  for (const auto& [name, value] : static_labels_) {
    if (!find(name)) chosen[n++] = {name, value};
  }
  if (!find("job")) chosen[n++] = {"job", kDefaultJob};
  // Insertion sort: n <= 7.
  for (size_t i = 1; i < n; ++i) {
    for (size_t j = i; j > 0 && chosen[j] < chosen[j - 1]; --j) std::swap(chosen[j], chosen[j - 1]);
  }

  out->labels.push_back('{');
  for (size_t i = 0; i < n; ++i) {
    if (i) out->labels.append(", ");
    out->labels.append(chosen[i].first);
    out->labels.append("=\"");
    AppendEscapedLabelValue(&out->labels, chosen[i].second);
    out->labels.push_back('"');
  }
  out->labels.push_back('}');

  out->tenant = default_tenant_;
  for (std::string_view key : {std::string_view("sf_org_id"), std::string_view("org")}) {
    if (std::string_view* v = find(key)) {
      auto it = tenants_.find(*v);
      if (it != tenants_.end()) {
        out->tenant = it->second;
        break;
      }
    }
  }
}

}  // namespace forcepipe::loki
