#include "config/node.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cassert>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <set>
#include <sstream>

#include "config/loader.h"

namespace forcepipe::config {

std::string_view OptionTypeName(OptionType t) {
  switch (t) {
    case OptionType::kString:
      return "string";
    case OptionType::kSecret:
      return "secret";
    case OptionType::kBool:
      return "bool";
    case OptionType::kInt:
      return "integer";
    case OptionType::kDouble:
      return "number";
    case OptionType::kDuration:
      return "duration";
    case OptionType::kSize:
      return "size";
    case OptionType::kStringList:
      return "list of strings";
    case OptionType::kStringMap:
      return "map of strings";
    case OptionType::kSection:
      return "section";
  }
  return "?";
}

// ---------------------------------------------------------------------------
// Node accessors

std::string Node::PathOf(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

const Value* Node::Find(const std::string& key) const {
  auto it = values_.find(key);
  return it == values_.end() ? nullptr : &it->second;
}

bool Node::Has(const std::string& key) const {
  const Value* v = Find(key);
  return v && !std::holds_alternative<std::monostate>(*v);
}

bool Node::IsSet(const std::string& key) const {
  auto it = explicit_.find(key);
  return it != explicit_.end() && it->second;
}

void Node::Set(const std::string& key, Value v, bool explicitly_set) {
  values_[key] = std::move(v);
  explicit_[key] = explicitly_set;
}

namespace {
template <typename T>
const T& Get(const Value* v, const std::string& key) {
  assert(v && std::holds_alternative<T>(*v) && "config key missing or of another type");
  if (!v || !std::holds_alternative<T>(*v)) {
    static const T kEmpty{};
    return kEmpty;
  }
  return std::get<T>(*v);
}
}  // namespace

std::string Node::GetString(const std::string& key) const {
  const Value* v = Find(key);
  if (!v || std::holds_alternative<std::monostate>(*v)) return {};
  return Get<std::string>(v, key);
}
bool Node::GetBool(const std::string& key) const { return Get<bool>(Find(key), key); }
int64_t Node::GetInt(const std::string& key) const { return Get<int64_t>(Find(key), key); }
double Node::GetDouble(const std::string& key) const { return Get<double>(Find(key), key); }
Duration Node::GetDuration(const std::string& key) const { return Get<Duration>(Find(key), key); }
uint64_t Node::GetSize(const std::string& key) const { return Get<uint64_t>(Find(key), key); }
std::vector<std::string> Node::GetStringList(const std::string& key) const {
  const Value* v = Find(key);
  if (!v || std::holds_alternative<std::monostate>(*v)) return {};
  return Get<std::vector<std::string>>(v, key);
}
std::map<std::string, std::string> Node::GetStringMap(const std::string& key) const {
  const Value* v = Find(key);
  if (!v || std::holds_alternative<std::monostate>(*v)) return {};
  return Get<std::map<std::string, std::string>>(v, key);
}
const Node& Node::GetSection(const std::string& key) const {
  const auto& p = Get<std::shared_ptr<const Node>>(Find(key), key);
  static const Node kEmpty;
  return p ? *p : kEmpty;
}

// ---------------------------------------------------------------------------
// Environment

std::optional<std::string> Environment::Get(const std::string& name) const {
  const char* v = std::getenv(name.c_str());
  if (!v) return std::nullopt;
  return std::string(v);
}

Result<std::string> Environment::ReadFile(const std::string& path) const {
  auto r = ReadFileBounded(path, kMaxSecretFileBytes, /*allow_pipe=*/false);
  if (!r.ok()) return Status(r.status().code(), "cannot read file " + r.status().message());
  return r;
}

const Environment& Environment::Process() {
  static Environment env;
  return env;
}

// ---------------------------------------------------------------------------
// Scalar parsers

Result<Duration> ParseDuration(const std::string& text) {
  // One or more <number><unit> groups: 250ms, 30s, 5m, 1h, 2h30m, 1.5s. "0" alone is zero.
  if (text == "0") return Duration{0};
  if (text.empty()) return Status::InvalidArgument("empty duration");
  size_t i = 0;
  long double total_ns = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
      ++i;
    if (start == i) return Status::InvalidArgument("bad duration");
    long double num = std::strtold(text.substr(start, i - start).c_str(), nullptr);
    size_t ustart = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string unit = text.substr(ustart, i - ustart);
    long double mult;
    if (unit == "ns")
      mult = 1;
    else if (unit == "us")
      mult = 1e3;
    else if (unit == "ms")
      mult = 1e6;
    else if (unit == "s")
      mult = 1e9;
    else if (unit == "m")
      mult = 60e9;
    else if (unit == "h")
      mult = 3600e9;
    else if (unit == "d")
      mult = 86400e9;
    else
      return Status::InvalidArgument("bad duration unit");
    total_ns += num * mult;
  }
  if (total_ns > 9.2e18L) return Status::InvalidArgument("duration too large");
  return Duration{static_cast<int64_t>(total_ns)};
}

Result<uint64_t> ParseSize(const std::string& text) {
  if (text.empty()) return Status::InvalidArgument("empty size");
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  if (i == 0) return Status::InvalidArgument("bad size");
  long double num = std::strtold(text.substr(0, i).c_str(), nullptr);
  std::string unit = text.substr(i);
  while (!unit.empty() && unit.front() == ' ') unit.erase(unit.begin());
  long double mult;
  if (unit.empty() || unit == "B")
    mult = 1;
  else if (unit == "KiB")
    mult = 1024.0L;
  else if (unit == "MiB")
    mult = 1024.0L * 1024;
  else if (unit == "GiB")
    mult = 1024.0L * 1024 * 1024;
  else if (unit == "TiB")
    mult = 1024.0L * 1024 * 1024 * 1024;
  else if (unit == "KB" || unit == "kB")
    mult = 1e3L;
  else if (unit == "MB")
    mult = 1e6L;
  else if (unit == "GB")
    mult = 1e9L;
  else if (unit == "TB")
    mult = 1e12L;
  else
    return Status::InvalidArgument("bad size unit");
  long double bytes = num * mult;
  if (bytes > 1.8e19L) return Status::InvalidArgument("size too large");
  if (unit.empty() && i != text.size()) return Status::InvalidArgument("bad size");
  return static_cast<uint64_t>(bytes);
}

Result<std::string> Interpolate(const std::string& text, const Environment& env) {
  // Errors name positions, never the text: it may be a secret.
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '$') {  // "$$" -> "$"
      out += '$';
      ++i;
      continue;
    }
    if (text[i] != '$' || i + 1 >= text.size() || text[i + 1] != '{') {
      out += text[i];
      continue;
    }
    const std::string at = " at character " + std::to_string(i + 1);
    size_t close = text.find('}', i + 2);
    if (close == std::string::npos) {
      return Status::InvalidArgument("unterminated ${" + at + " (write $$ for a literal $)");
    }
    std::string body = text.substr(i + 2, close - i - 2);
    std::string name = body;
    std::optional<std::string> fallback;
    if (size_t d = body.find(":-"); d != std::string::npos) {
      name = body.substr(0, d);
      fallback = body.substr(d + 2);
    }
    bool valid = !name.empty();
    for (char c : name) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) valid = false;
    }
    if (!valid) {
      return Status::InvalidArgument("bad variable name in ${...}" + at +
                                     " (letters, digits and _ only; write $$ for a literal $)");
    }
    std::optional<std::string> v = env.Get(name);
    if (!v || (v->empty() && fallback)) {
      if (!fallback) {
        return Status::InvalidArgument("environment variable " + EscapeForMessage(name) +
                                       " is not set");
      }
      v = fallback;
    }
    out += *v;
    i = close;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Message text

namespace {

constexpr size_t kMaxQuotedBytes = 80;

// Escapes control characters, DEL, '"' and '\\'; cuts after kMaxQuotedBytes
// bytes of input (at a UTF-8 character boundary) with "…".
std::string Escape(std::string_view s) {
  size_t n = s.size();
  bool cut = n > kMaxQuotedBytes;
  if (cut) {
    n = kMaxQuotedBytes;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  }
  std::string o;
  o.reserve(n + 8);
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        o += "\\\"";
        break;
      case '\\':
        o += "\\\\";
        break;
      case '\n':
        o += "\\n";
        break;
      case '\r':
        o += "\\r";
        break;
      case '\t':
        o += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\x%02x", c);
          o += buf;
        } else {
          o += static_cast<char>(c);
        }
    }
  }
  if (cut) o += "…";
  return o;
}

}  // namespace

std::string QuoteForMessage(std::string_view s) { return "\"" + Escape(s) + "\""; }

std::string EscapeForMessage(std::string_view s) { return Escape(s); }

// ---------------------------------------------------------------------------
// Validation

namespace {

std::string Quote(const std::string& s) { return QuoteForMessage(s); }

std::string Describe(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Scalar:
      return Quote(n.Scalar());
    default:
      return "an undefined value";
  }
}

std::string Where(const YAML::Node& n) {
  YAML::Mark m = n.Mark();
  if (m.line < 0) return "";
  return " (line " + std::to_string(m.line + 1) + ")";
}

std::string FormatNumber(double v) {
  std::ostringstream ss;
  ss << v;
  return ss.str();
}

Status RangeError(const std::string& path, const Option& o, const std::string& got) {
  std::string range;
  if (std::isfinite(o.min) && std::isfinite(o.max)) {
    range = "between " + FormatNumber(o.min) + " and " + FormatNumber(o.max);
  } else if (std::isfinite(o.min)) {
    range = "at least " + FormatNumber(o.min);
  } else {
    range = "at most " + FormatNumber(o.max);
  }
  std::string unit = o.type == OptionType::kDuration ? " seconds"
                     : o.type == OptionType::kSize   ? " bytes"
                                                     : "";
  return Status::InvalidArgument(path + ": expected a " + std::string(OptionTypeName(o.type)) +
                                 " " + range + unit + ", got " + got);
}

// Converts one scalar text (already interpolated) to the option's type.
Result<Value> ConvertScalar(const Option& o, const std::string& path, const std::string& text) {
  auto expected = [&](const std::string& what) {
    // A secret's value is never quoted.
    std::string got = o.type == OptionType::kSecret ? "a value that is not" : Quote(text);
    return Status::InvalidArgument(path + ": expected " + what + ", got " + got);
  };
  switch (o.type) {
    case OptionType::kString:
    case OptionType::kSecret: {
      if (!o.choices.empty()) {
        bool ok = false;
        std::string list;
        for (const auto& c : o.choices) {
          ok = ok || c == text;
          list += (list.empty() ? "" : ", ") + c;
        }
        if (!ok) return expected("one of " + list);
      }
      return Value(text);
    }
    case OptionType::kBool:
      if (text == "true" || text == "yes" || text == "on") return Value(true);
      if (text == "false" || text == "no" || text == "off") return Value(false);
      return expected("true or false");
    case OptionType::kInt: {
      errno = 0;
      char* end = nullptr;
      long long v = std::strtoll(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0' || errno == ERANGE) return expected("an integer");
      if (v < o.min || v > o.max) return RangeError(path, o, Quote(text));
      return Value(static_cast<int64_t>(v));
    }
    case OptionType::kDouble: {
      char* end = nullptr;
      double v = std::strtod(text.c_str(), &end);
      if (text.empty() || *end != '\0' || !std::isfinite(v)) return expected("a number");
      if (v < o.min || v > o.max) return RangeError(path, o, Quote(text));
      return Value(v);
    }
    case OptionType::kDuration: {
      auto d = ParseDuration(text);
      if (!d.ok()) return expected("a duration like 30s, 250ms or 5m");
      double secs = std::chrono::duration<double>(*d).count();
      if (secs < o.min || secs > o.max) return RangeError(path, o, Quote(text));
      return Value(*d);
    }
    case OptionType::kSize: {
      auto s = ParseSize(text);
      if (!s.ok()) return expected("a size like 1MiB");
      if (static_cast<double>(*s) < o.min || static_cast<double>(*s) > o.max) {
        return RangeError(path, o, Quote(text));
      }
      return Value(*s);
    }
    default:
      return expected(std::string(OptionTypeName(o.type)));
  }
}

Result<std::string> ScalarText(const YAML::Node& n, const std::string& path,
                               const Environment& env) {
  std::string raw = n.Scalar();
  auto r = Interpolate(raw, env);
  if (!r.ok()) return Status::InvalidArgument(path + ": " + r.status().message());
  return r;
}

}  // namespace

Result<Node> Validate(const YAML::Node& yaml, const OptionTable& table, const std::string& path,
                      const Environment& env, const std::vector<std::string>& handled_elsewhere) {
  Node node(path, &table);
  const std::string where = path.empty() ? "the config" : path;
  if (yaml.IsDefined() && !yaml.IsNull() && !yaml.IsMap()) {
    return Status::InvalidArgument(where + ": expected a mapping, got " + Describe(yaml) +
                                   Where(yaml));
  }

  std::set<std::string> known(handled_elsewhere.begin(), handled_elsewhere.end());
  for (const auto& o : table) {
    known.insert(o.key);
    if (o.type == OptionType::kSecret) known.insert(o.key + "_file");
  }
  if (yaml.IsMap()) {
    for (const auto& kv : yaml) {
      std::string key = kv.first.Scalar();
      if (!known.count(key)) {
        std::string list;
        for (const auto& o : table) list += (list.empty() ? "" : ", ") + o.key;
        for (const auto& k : handled_elsewhere) list += (list.empty() ? "" : ", ") + k;
        return Status::InvalidArgument(node.PathOf(EscapeForMessage(key)) + ": unknown key" +
                                       Where(kv.first) + "; expected one of: " + list);
      }
    }
  }

  for (const auto& o : table) {
    const std::string p = node.PathOf(o.key);
    YAML::Node v = yaml.IsMap() ? yaml[o.key] : YAML::Node();
    YAML::Node file_v =
        (o.type == OptionType::kSecret && yaml.IsMap()) ? yaml[o.key + "_file"] : YAML::Node();
    bool present = v.IsDefined() && !v.IsNull();
    bool file_present = file_v.IsDefined() && !file_v.IsNull();

    if (o.type == OptionType::kSection) {
      assert(o.section);
      FP_ASSIGN_OR_RETURN(Node sub, Validate(present ? v : YAML::Node(), *o.section, p, env));
      node.Set(o.key, std::make_shared<const Node>(std::move(sub)), present);
      continue;
    }

    if (present && file_present) {
      return Status::InvalidArgument(p + ": set either " + o.key + " or " + o.key +
                                     "_file, not both");
    }
    if (file_present) {
      if (!file_v.IsScalar()) {
        return Status::InvalidArgument(p + "_file: expected a file path, got " + Describe(file_v));
      }
      FP_ASSIGN_OR_RETURN(std::string fpath, ScalarText(file_v, p + "_file", env));
      auto content = env.ReadFile(fpath);
      if (!content.ok()) return Status::InvalidArgument(p + "_file: " + content.status().message());
      std::string s = *content;
      while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
      if (s.empty()) {
        return Status::InvalidArgument(p + "_file: " + EscapeForMessage(fpath) +
                                       " is empty; a secret must not be empty");
      }
      node.Set(o.key, Value(std::move(s)), true);
      continue;
    }

    if (!present) {
      if (o.required)
        return Status::InvalidArgument(p + ": required " + std::string(OptionTypeName(o.type)) +
                                       " is missing");
      if (o.default_value.empty()) {
        node.Set(o.key, std::monostate{}, false);
        continue;
      }
      // Defaults are trusted table data but go through the same conversion.
      if (o.type == OptionType::kStringList || o.type == OptionType::kStringMap) {
        node.Set(o.key, std::monostate{}, false);
        continue;
      }
      auto def = ConvertScalar(o, p, o.default_value);
      if (!def.ok())
        return Status::Internal("bad default for " + p + ": " + def.status().message());
      node.Set(o.key, std::move(def).value(), false);
      continue;
    }

    switch (o.type) {
      case OptionType::kStringList: {
        if (!v.IsSequence()) {
          return Status::InvalidArgument(p + ": expected a list of strings, got " + Describe(v) +
                                         Where(v));
        }
        std::vector<std::string> list;
        for (size_t i = 0; i < v.size(); ++i) {
          std::string ip = p + "[" + std::to_string(i) + "]";
          if (!v[i].IsScalar())
            return Status::InvalidArgument(ip + ": expected a string, got " + Describe(v[i]));
          FP_ASSIGN_OR_RETURN(std::string s, ScalarText(v[i], ip, env));
          list.push_back(std::move(s));
        }
        node.Set(o.key, std::move(list), true);
        break;
      }
      case OptionType::kStringMap: {
        if (!v.IsMap()) {
          return Status::InvalidArgument(p + ": expected a mapping of strings, got " + Describe(v) +
                                         Where(v));
        }
        std::map<std::string, std::string> m;
        for (const auto& kv : v) {
          std::string k = kv.first.Scalar();
          std::string ip = p + "." + EscapeForMessage(k);
          if (!kv.second.IsScalar()) {
            return Status::InvalidArgument(ip + ": expected a string, got " + Describe(kv.second));
          }
          FP_ASSIGN_OR_RETURN(std::string s, ScalarText(kv.second, ip, env));
          m[k] = std::move(s);
        }
        node.Set(o.key, std::move(m), true);
        break;
      }
      default: {
        if (!v.IsScalar()) {
          return Status::InvalidArgument(p + ": expected a " + std::string(OptionTypeName(o.type)) +
                                         ", got " + Describe(v) + Where(v));
        }
        FP_ASSIGN_OR_RETURN(std::string text, ScalarText(v, p, env));
        if (o.type == OptionType::kSecret && text.empty()) {
          return Status::InvalidArgument(p + ": is empty" + Where(v) +
                                         "; a secret must not be empty (remove the key to leave "
                                         "it unset)");
        }
        FP_ASSIGN_OR_RETURN(Value val, ConvertScalar(o, p, text));
        node.Set(o.key, std::move(val), true);
      }
    }
  }
  return node;
}

// ---------------------------------------------------------------------------
// Example rendering

std::string RenderExample(const OptionTable& table, int indent) {
  std::string pad(indent, ' ');
  std::string out;
  for (const auto& o : table) {
    std::string desc = o.description;
    std::string type(OptionTypeName(o.type));
    if (!o.choices.empty()) {
      type += ": ";
      for (size_t i = 0; i < o.choices.size(); ++i) type += (i ? " | " : "") + o.choices[i];
    }
    out += pad + "# " + desc + " (" + type + (o.required ? ", required" : "") + ")\n";
    if (o.type == OptionType::kSection) {
      out += pad + o.key + ":\n" + RenderExample(*o.section, indent + 2);
      continue;
    }
    if (o.type == OptionType::kSecret) {
      out += pad + "# or " + o.key + "_file: /path/to/file holding it\n";
    }
    std::string value = !o.default_value.empty() ? o.default_value : o.example;
    if (o.type == OptionType::kStringList) {
      out += pad + o.key + ": " + (value.empty() ? "[]" : value) + "\n";
    } else if (o.type == OptionType::kStringMap) {
      out += pad + o.key + ": " + (value.empty() ? "{}" : value) + "\n";
    } else if (value.empty()) {
      out += pad + "# " + o.key + ":\n";
    } else {
      bool needs_quote = value.find_first_of(":#{}[],&*!|>'\"%@`") != std::string::npos;
      out += pad + o.key + ": " + (needs_quote ? Quote(value) : value) + "\n";
    }
  }
  return out;
}

}  // namespace forcepipe::config
