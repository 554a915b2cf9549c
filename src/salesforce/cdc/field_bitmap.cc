#include "salesforce/cdc/field_bitmap.h"

#include <algorithm>

namespace forcepipe::salesforce::cdc {

namespace {

constexpr size_t kMaxFields = 1u << 20;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Quote(std::string_view s) {
  // Bitmap elements are short; cap what an error echoes.
  std::string out = "\"";
  out.append(s.substr(0, 64));
  if (s.size() > 64) out += "...";
  out += "\"";
  return out;
}

}  // namespace

const avro::Schema* CompoundRecord(const avro::Schema& type) {
  if (type.type() == avro::Type::kRecord) return &type;
  if (type.type() != avro::Type::kUnion) return nullptr;
  const avro::Schema* found = nullptr;
  for (const avro::Schema* b : type.branches()) {
    if (b->type() == avro::Type::kRecord) {
      if (found) return nullptr;  // ambiguous
      found = b;
    }
  }
  return found;
}

Result<std::shared_ptr<const FieldMap>> FieldMap::Build(const avro::Schema& schema) {
  if (schema.type() != avro::Type::kRecord) {
    return Status::InvalidArgument("CDC bitmap: event schema is a " +
                                   std::string(avro::TypeName(schema.type())) + ", not a record");
  }
  if (schema.fields().size() > kMaxFields) {
    return Status::InvalidArgument("CDC bitmap: event schema has too many fields");
  }
  std::shared_ptr<FieldMap> m(new FieldMap());
  m->top_.reserve(schema.fields().size());
  m->nested_.resize(schema.fields().size());
  for (const avro::Field& f : schema.fields()) {
    m->top_.push_back(f.name);
    // The header (position 0) is a record too, but bitmaps never address its children;
    // mapping it anyway keeps the rule uniform.
    if (const avro::Schema* rec = CompoundRecord(*f.type)) {
      auto& names = m->nested_[f.index];
      names.reserve(rec->fields().size());
      for (const avro::Field& c : rec->fields()) names.push_back(f.name + "." + c.name);
    }
  }
  return std::shared_ptr<const FieldMap>(std::move(m));
}

Status FieldMap::DecodeOne(std::string_view element, std::vector<FieldRef>* out) const {
  std::string_view hex = element;
  uint32_t parent = 0;
  bool nested = false;
  if (size_t dash = element.find('-'); dash != std::string_view::npos) {
    std::string_view pos = element.substr(0, dash);
    if (pos.empty() || pos.size() > 7) {
      return Status::InvalidArgument("CDC bitmap: bad parent position in " + Quote(element));
    }
    for (char c : pos) {
      if (c < '0' || c > '9') {
        return Status::InvalidArgument("CDC bitmap: bad parent position in " + Quote(element));
      }
      parent = parent * 10 + static_cast<uint32_t>(c - '0');
    }
    if (parent >= top_.size()) {
      return Status::InvalidArgument("CDC bitmap: parent position " + std::to_string(parent) +
                                     " out of range (schema has " + std::to_string(top_.size()) +
                                     " fields) in " + Quote(element));
    }
    if (nested_[parent].empty()) {
      return Status::InvalidArgument("CDC bitmap: field " + std::to_string(parent) + " (" +
                                     top_[parent] + ") is not a compound field in " +
                                     Quote(element));
    }
    nested = true;
    hex = element.substr(dash + 1);
  }
  if (hex.size() < 3 || hex[0] != '0' || (hex[1] != 'x' && hex[1] != 'X')) {
    return Status::InvalidArgument("CDC bitmap: element " + Quote(element) +
                                   " is not 0x<hex> or <pos>-0x<hex>");
  }
  hex.remove_prefix(2);
  const size_t limit = nested ? nested_[parent].size() : top_.size();
  const size_t before = out->size();
  size_t bit_base = 0;
  for (size_t k = hex.size(); k-- > 0; bit_base += 4) {
    const int v = HexValue(hex[k]);
    if (v < 0) {
      out->resize(before);
      return Status::InvalidArgument("CDC bitmap: non-hex digit in " + Quote(element));
    }
    if (v == 0) continue;
    for (int b = 0; b < 4; ++b) {
      if (!(v & (1 << b))) continue;
      const size_t bit = bit_base + static_cast<size_t>(b);
      if (bit >= limit) {
        out->resize(before);
        return Status::InvalidArgument("CDC bitmap: bit " + std::to_string(bit) + " of " +
                                       Quote(element) + " is beyond the " + std::to_string(limit) +
                                       " fields of " +
                                       (nested ? top_[parent] : std::string("the event schema")));
      }
      out->push_back(nested ? FieldRef{parent, static_cast<uint32_t>(bit) + 1}
                            : FieldRef{static_cast<uint32_t>(bit), 0});
    }
  }
  return Status::Ok();
}

Status FieldMap::DecodeRefs(const std::vector<std::string>& elements,
                            std::vector<FieldRef>* out) const {
  const size_t before = out->size();
  for (const std::string& e : elements) {
    Status s = DecodeOne(e, out);
    if (!s.ok()) {
      out->resize(before);
      return s;
    }
  }
  auto first = out->begin() + static_cast<std::ptrdiff_t>(before);
  auto less = [](const FieldRef& a, const FieldRef& b) {
    return a.top != b.top ? a.top < b.top : a.child_plus_one < b.child_plus_one;
  };
  // Each element yields ascending bits, so one element (the common case) needs no sort.
  if (!std::is_sorted(first, out->end(), less)) std::sort(first, out->end(), less);
  out->erase(std::unique(first, out->end()), out->end());
  return Status::Ok();
}

Status FieldMap::DecodeNames(const std::vector<std::string>& elements,
                             std::vector<std::string>* out) const {
  std::vector<FieldRef> refs;
  FP_RETURN_IF_ERROR(DecodeRefs(elements, &refs));
  out->clear();
  out->reserve(refs.size());
  for (const FieldRef& r : refs) out->push_back(Name(r));
  return Status::Ok();
}

Result<std::shared_ptr<const FieldMap>> FieldMapCache::Get(const std::string& schema_id,
                                                           const avro::Schema& schema) {
  {
    std::lock_guard l(mu_);
    auto it = maps_.find(schema_id);
    if (it != maps_.end()) return it->second;
  }
  FP_ASSIGN_OR_RETURN(auto map, FieldMap::Build(schema));
  std::lock_guard l(mu_);
  auto [it, inserted] = maps_.emplace(schema_id, std::move(map));
  return it->second;
}

size_t FieldMapCache::size() const {
  std::lock_guard l(mu_);
  return maps_.size();
}

}  // namespace forcepipe::salesforce::cdc
