#include "core/entry.h"

namespace forcepipe {

std::string_view Entry::Metadata(std::string_view name) const {
  for (const auto& kv : structured_metadata) {
    if (kv.name == name) return kv.value;
  }
  return {};
}

std::string_view Entry::LabelValue(std::string_view name) const {
  if (!labels) return {};
  for (const auto& kv : *labels) {
    if (kv.name == name) return kv.value;
  }
  return {};
}

size_t Entry::ComputeByteSize() const {
  // Payload bytes plus a fixed overhead for the struct and small vectors; labels
  // are shared and not counted per entry.
  size_t n = sizeof(Entry) + line.size() + checkpoint.key.size() + checkpoint.value.size();
  for (const auto& kv : structured_metadata) n += sizeof(Label) + kv.name.size() + kv.value.size();
  for (const auto& o : objects) n += sizeof(ObjectRef) + o.type.size() + o.id.size();
  return n;
}

}  // namespace forcepipe
