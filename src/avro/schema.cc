#include "avro/schema.h"

#include <openssl/evp.h>

#include <limits>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <unordered_set>

#include "core/base64.h"

namespace forcepipe::avro {
namespace {

using Json = nlohmann::json;

constexpr int kMaxDepth = 100;
constexpr uint64_t kMaxFixedSize = 1u << 30;

// Keeps every node of one parsed schema alive.
struct Arena {
  std::vector<std::unique_ptr<Schema>> nodes;
};

bool IsValidSimpleName(std::string_view s) {
  if (s.empty()) return false;
  auto alpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  if (!alpha(s[0])) return false;
  for (char c : s) {
    if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool IsValidDottedName(std::string_view s) {
  if (s.empty()) return true;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string_view part = s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
    if (!IsValidSimpleName(part)) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

std::optional<Type> PrimitiveType(std::string_view name) {
  if (name == "null") return Type::kNull;
  if (name == "boolean") return Type::kBoolean;
  if (name == "int") return Type::kInt;
  if (name == "long") return Type::kLong;
  if (name == "float") return Type::kFloat;
  if (name == "double") return Type::kDouble;
  if (name == "bytes") return Type::kBytes;
  if (name == "string") return Type::kString;
  return std::nullopt;
}

const std::string* GetString(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return nullptr;
  return it->get_ptr<const std::string*>();
}

}  // namespace

// Builds the node graph of one schema. Friend of Schema.
class SchemaBuilder {
 public:
  explicit SchemaBuilder(Arena* arena) : arena_(arena) {}

  Result<const Schema*> Parse(const Json& j, const std::string& ns, int depth,
                              const std::string& path) {
    if (depth > kMaxDepth) return Error(path, "schema nested too deeply");
    if (j.is_string()) return ParseName(j.get_ref<const std::string&>(), ns, path);
    if (j.is_array()) return ParseUnion(j, ns, depth, path);
    if (j.is_object()) return ParseObject(j, ns, depth, path);
    return Error(path, "a schema must be a string, an array or an object");
  }

 private:
  static Status Error(const std::string& path, std::string_view what) {
    return Status::InvalidArgument("avro schema" + (path.empty() ? "" : " at " + path) + ": " +
                                   std::string(what));
  }

  Schema* New(Type t) {
    arena_->nodes.push_back(std::make_unique<Schema>());
    Schema* s = arena_->nodes.back().get();
    s->type_ = t;
    return s;
  }

  Result<const Schema*> ParseName(const std::string& name, const std::string& ns,
                                  const std::string& path) {
    if (auto t = PrimitiveType(name)) return static_cast<const Schema*>(New(*t));
    if (name.find('.') == std::string::npos && !ns.empty()) {
      auto it = named_.find(ns + "." + name);
      if (it != named_.end()) return static_cast<const Schema*>(it->second);
    }
    auto it = named_.find(name);
    if (it != named_.end()) return static_cast<const Schema*>(it->second);
    return Error(path, "unknown type \"" + name + "\"");
  }

  Result<const Schema*> ParseUnion(const Json& j, const std::string& ns, int depth,
                                   const std::string& path) {
    Schema* u = New(Type::kUnion);
    std::unordered_set<std::string> seen;
    for (size_t i = 0; i < j.size(); ++i) {
      std::string bpath = path + "[" + std::to_string(i) + "]";
      FP_ASSIGN_OR_RETURN(const Schema* b, Parse(j[i], ns, depth + 1, bpath));
      if (b->type() == Type::kUnion) return Error(bpath, "a union may not contain a union");
      std::string key = b->full_name().empty() ? std::string(TypeName(b->type())) : b->full_name();
      if (!seen.insert(key).second) return Error(bpath, "duplicate union branch " + key);
      if (b->type() == Type::kNull) u->null_branch_ = static_cast<int>(i);
      u->branches_.push_back(b);
    }
    return static_cast<const Schema*>(u);
  }

  Status SetName(Schema* s, const Json& j, const std::string& ns, const std::string& path) {
    const std::string* name = GetString(j, "name");
    if (name == nullptr) return Error(path, "named type without a string \"name\"");
    std::string space;
    std::string simple;
    size_t dot = name->rfind('.');
    if (dot != std::string::npos) {
      space = name->substr(0, dot);
      simple = name->substr(dot + 1);
    } else {
      simple = *name;
      auto it = j.find("namespace");
      if (it != j.end() && !it->is_null()) {
        if (!it->is_string()) return Error(path, "\"namespace\" must be a string");
        space = it->get<std::string>();
      } else {
        space = ns;
      }
    }
    if (!IsValidSimpleName(simple) || !IsValidDottedName(space)) {
      return Error(path, "invalid name \"" + *name + "\"");
    }
    if (PrimitiveType(simple) && space.empty()) {
      return Error(path, "a named type may not be called \"" + simple + "\"");
    }
    s->name_ = simple;
    s->namespace_ = space;
    s->full_name_ = space.empty() ? simple : space + "." + simple;
    if (!named_.emplace(s->full_name_, s).second) {
      return Error(path, "type \"" + s->full_name_ + "\" defined twice");
    }
    if (const std::string* doc = GetString(j, "doc")) s->doc_ = *doc;
    auto al = j.find("aliases");
    if (al != j.end() && al->is_array()) {
      for (const auto& a : *al) {
        if (a.is_string()) s->aliases_.push_back(a.get<std::string>());
      }
    }
    return Status::Ok();
  }

  Result<const Schema*> ParseObject(const Json& j, const std::string& ns, int depth,
                                    const std::string& path) {
    auto tit = j.find("type");
    if (tit == j.end()) return Error(path, "object without \"type\"");
    if (!tit->is_string()) return Parse(*tit, ns, depth + 1, path);  // {"type": {...}}
    const std::string& type = tit->get_ref<const std::string&>();
    Schema* s = nullptr;
    if (auto prim = PrimitiveType(type)) {
      s = New(*prim);
    } else if (type == "record" || type == "error" || type == "expanded-record") {
      s = New(Type::kRecord);
      s->expanded_record_ = type == "expanded-record";
      FP_RETURN_IF_ERROR(SetName(s, j, ns, path));
      auto fit = j.find("fields");
      if (fit == j.end() || !fit->is_array()) return Error(path, "record without \"fields\" array");
      std::unordered_set<std::string> names;
      for (size_t i = 0; i < fit->size(); ++i) {
        const Json& fj = (*fit)[i];
        std::string fpath = path + "/" + s->name_ + ".fields[" + std::to_string(i) + "]";
        if (!fj.is_object()) return Error(fpath, "a field must be an object");
        const std::string* fname = GetString(fj, "name");
        if (fname == nullptr || !IsValidSimpleName(*fname)) {
          return Error(fpath, "field without a valid \"name\"");
        }
        fpath = path + "/" + s->name_ + "." + *fname;
        if (!names.insert(*fname).second) return Error(fpath, "duplicate field name");
        auto ftype = fj.find("type");
        if (ftype == fj.end()) return Error(fpath, "field without \"type\"");
        Field f;
        f.name = *fname;
        f.index = i;
        FP_ASSIGN_OR_RETURN(f.type, Parse(*ftype, s->namespace_, depth + 1, fpath));
        if (const std::string* doc = GetString(fj, "doc")) f.doc = *doc;
        auto def = fj.find("default");
        if (def != fj.end())
          f.default_json = def->dump(-1, ' ', false, Json::error_handler_t::replace);
        s->fields_.push_back(std::move(f));
      }
    } else if (type == "enum") {
      s = New(Type::kEnum);
      FP_RETURN_IF_ERROR(SetName(s, j, ns, path));
      auto sit = j.find("symbols");
      if (sit == j.end() || !sit->is_array()) return Error(path, "enum without \"symbols\" array");
      std::unordered_set<std::string> seen;
      for (const auto& sym : *sit) {
        if (!sym.is_string() || !IsValidSimpleName(sym.get_ref<const std::string&>())) {
          return Error(path, "invalid enum symbol");
        }
        if (!seen.insert(sym.get<std::string>()).second)
          return Error(path, "duplicate enum symbol");
        s->symbols_.push_back(sym.get<std::string>());
      }
    } else if (type == "array" || type == "map") {
      s = New(type == "array" ? Type::kArray : Type::kMap);
      auto cit = j.find(type == "array" ? "items" : "values");
      if (cit == j.end())
        return Error(path, type + " without " + (type == "array" ? "items" : "values"));
      FP_ASSIGN_OR_RETURN(s->child_, Parse(*cit, ns, depth + 1, path + "/" + type));
    } else if (type == "fixed") {
      s = New(Type::kFixed);
      FP_RETURN_IF_ERROR(SetName(s, j, ns, path));
      auto zit = j.find("size");
      if (zit == j.end() || !zit->is_number_unsigned() || zit->get<uint64_t>() > kMaxFixedSize) {
        return Error(path, "fixed needs a non-negative integer \"size\"");
      }
      s->size_ = zit->get<uint64_t>();
    } else {
      // A reference by name written as {"type": "Address"}.
      return ParseName(type, ns, path);
    }
    if (const std::string* lt = GetString(j, "logicalType")) s->logical_type_ = *lt;
    auto num = [&](const char* key) {
      auto it = j.find(key);
      if (it == j.end() || !it->is_number_integer()) return 0;
      int64_t v = it->get<int64_t>();
      return v < 0 || v > std::numeric_limits<int>::max() ? 0 : static_cast<int>(v);
    };
    s->precision_ = num("precision");
    s->scale_ = num("scale");
    return static_cast<const Schema*>(s);
  }

  Arena* arena_;
  std::unordered_map<std::string, Schema*> named_;
};

std::string_view TypeName(Type type) {
  switch (type) {
    case Type::kNull:
      return "null";
    case Type::kBoolean:
      return "boolean";
    case Type::kInt:
      return "int";
    case Type::kLong:
      return "long";
    case Type::kFloat:
      return "float";
    case Type::kDouble:
      return "double";
    case Type::kBytes:
      return "bytes";
    case Type::kString:
      return "string";
    case Type::kRecord:
      return "record";
    case Type::kEnum:
      return "enum";
    case Type::kArray:
      return "array";
    case Type::kMap:
      return "map";
    case Type::kUnion:
      return "union";
    case Type::kFixed:
      return "fixed";
  }
  return "?";
}

const Field* Schema::FindField(std::string_view name) const {
  for (const Field& f : fields_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::optional<size_t> Schema::FindSymbol(std::string_view symbol) const {
  for (size_t i = 0; i < symbols_.size(); ++i) {
    if (symbols_[i] == symbol) return i;
  }
  return std::nullopt;
}

Result<std::shared_ptr<const Schema>> ParseSchema(std::string_view json) {
  Json j = Json::parse(json.begin(), json.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument("avro schema: not valid JSON");
  auto arena = std::make_shared<Arena>();
  SchemaBuilder builder(arena.get());
  try {
    FP_ASSIGN_OR_RETURN(const Schema* root, builder.Parse(j, "", 0, ""));
    return std::shared_ptr<const Schema>(arena, root);
  } catch (const std::exception& e) {  // nlohmann type errors; should not happen
    return Status::InvalidArgument(std::string("avro schema: ") + e.what());
  }
}

namespace {

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      static const char kHex[] = "0123456789abcdef";
      out->append("\\u00");
      out->push_back(kHex[(c >> 4) & 0xf]);
      out->push_back(kHex[c & 0xf]);
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

void WriteCanonical(const Schema& s, std::unordered_set<const Schema*>* seen, std::string* out) {
  switch (s.type()) {
    case Type::kRecord:
    case Type::kEnum:
    case Type::kFixed:
      if (!seen->insert(&s).second) {
        AppendJsonString(s.full_name(), out);
        return;
      }
      out->append("{\"name\":");
      AppendJsonString(s.full_name(), out);
      out->append(",\"type\":");
      if (s.type() == Type::kRecord) {
        out->append("\"record\",\"fields\":[");
        for (size_t i = 0; i < s.fields().size(); ++i) {
          if (i > 0) out->push_back(',');
          out->append("{\"name\":");
          AppendJsonString(s.fields()[i].name, out);
          out->append(",\"type\":");
          WriteCanonical(*s.fields()[i].type, seen, out);
          out->push_back('}');
        }
        out->append("]}");
      } else if (s.type() == Type::kEnum) {
        out->append("\"enum\",\"symbols\":[");
        for (size_t i = 0; i < s.symbols().size(); ++i) {
          if (i > 0) out->push_back(',');
          AppendJsonString(s.symbols()[i], out);
        }
        out->append("]}");
      } else {
        out->append("\"fixed\",\"size\":");
        out->append(std::to_string(s.size()));
        out->push_back('}');
      }
      return;
    case Type::kArray:
      out->append("{\"type\":\"array\",\"items\":");
      WriteCanonical(s.items(), seen, out);
      out->push_back('}');
      return;
    case Type::kMap:
      out->append("{\"type\":\"map\",\"values\":");
      WriteCanonical(s.values(), seen, out);
      out->push_back('}');
      return;
    case Type::kUnion:
      out->push_back('[');
      for (size_t i = 0; i < s.branches().size(); ++i) {
        if (i > 0) out->push_back(',');
        WriteCanonical(*s.branches()[i], seen, out);
      }
      out->push_back(']');
      return;
    default:
      out->push_back('"');
      out->append(TypeName(s.type()));
      out->push_back('"');
      return;
  }
}

}  // namespace

std::string CanonicalForm(const Schema& schema) {
  std::string out;
  std::unordered_set<const Schema*> seen;
  WriteCanonical(schema, &seen, &out);
  return out;
}

std::string SchemaId(const Schema& schema) {
  std::string canonical = CanonicalForm(schema);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(canonical.data(), canonical.size(), md, &len, EVP_md5(), nullptr) != 1) {
    return "";
  }
  return Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(md), len));
}

}  // namespace forcepipe::avro
