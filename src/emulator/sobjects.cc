#include "emulator/sobjects.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <nlohmann/json.hpp>

namespace forcepipe::emulator {

namespace {

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() > suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool IsApiName(const std::string& s) {
  if (s.empty() || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

SObjectInfo Ordinary(const char* name, const char* label, const char* prefix, bool createable,
                     bool searchable) {
  SObjectInfo s;
  s.name = name;
  s.label = label;
  s.key_prefix = prefix;
  s.queryable = true;
  s.createable = createable;
  s.updateable = createable;
  s.deletable = true;
  s.searchable = searchable;
  s.triggerable = createable;
  s.layoutable = createable;
  return s;
}

SObjectInfo Event(const std::string& name, bool custom) {
  SObjectInfo s;
  s.name = name;
  s.label = LabelFor(name);
  s.custom = custom;
  return s;
}

}  // namespace

std::string LabelFor(const std::string& api_name) {
  std::string base = api_name;
  for (std::string_view suffix : {"__ChangeEvent", "__e", "__c"}) {
    if (EndsWith(base, suffix)) {
      base.resize(base.size() - suffix.size());
      if (suffix == "__ChangeEvent") base += "ChangeEvent";
      break;
    }
  }
  std::string out;
  for (size_t i = 0; i < base.size(); ++i) {
    char c = base[i];
    if (c == '_') {
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
      continue;
    }
    bool upper = std::isupper(static_cast<unsigned char>(c));
    bool prev_lower = i > 0 && std::islower(static_cast<unsigned char>(base[i - 1]));
    if (upper && prev_lower && !out.empty() && out.back() != ' ') out.push_back(' ');
    out.push_back(c);
  }
  return out;
}

bool IsRestApiVersion(const std::string& v) {
  if (v.size() < 4 || v[0] != 'v') return false;
  size_t dot = v.find('.');
  if (dot == std::string::npos || dot == 1 || dot + 1 == v.size()) return false;
  for (size_t i = 1; i < v.size(); ++i) {
    if (i != dot && !std::isdigit(static_cast<unsigned char>(v[i]))) return false;
  }
  return true;
}

std::vector<SObjectInfo> SObjectsForTopics(const std::vector<std::string>& topic_names) {
  std::map<std::string, SObjectInfo> by_name;
  for (SObjectInfo s : {
           Ordinary("Account", "Account", "001", true, true),
           Ordinary("Contact", "Contact", "003", true, true),
           Ordinary("Opportunity", "Opportunity", "006", true, true),
           Ordinary("Lead", "Lead", "00Q", true, true),
           Ordinary("Case", "Case", "500", true, true),
           Ordinary("User", "User", "005", true, true),
           Ordinary("EventLogFile", "Event Log File", "0AT", false, false),
           Ordinary("ApexLog", "Apex Debug Log", "07L", false, false),
       }) {
    if (s.name == "User") s.deletable = false;
    by_name.emplace(s.name, std::move(s));
  }
  for (const std::string& topic : topic_names) {
    size_t slash = topic.rfind('/');
    if (slash == std::string::npos) continue;
    const std::string channel = topic.substr(0, slash);
    const std::string name = topic.substr(slash + 1);
    if (!IsApiName(name)) continue;
    if (channel == "/event") {
      if (EndsWith(name, "EventStream")) {
        by_name.emplace(name, Event(name, false));
        // The stored (big object) counterpart: LoginEventStream -> LoginEvent.
        SObjectInfo stored = Event(name.substr(0, name.size() - 6), false);
        stored.queryable = true;
        by_name.emplace(stored.name, std::move(stored));
      } else if (EndsWith(name, "__e")) {
        SObjectInfo pe = Event(name, true);
        pe.createable = true;  // publishable
        pe.triggerable = true;
        by_name.emplace(name, std::move(pe));
      } else {
        by_name.emplace(name, Event(name, false));
      }
    } else if (channel == "/data" && EndsWith(name, "ChangeEvent")) {
      SObjectInfo ce = Event(name, EndsWith(name, "__ChangeEvent"));
      ce.triggerable = true;
      by_name.emplace(name, std::move(ce));
    }
  }
  std::vector<SObjectInfo> out;
  out.reserve(by_name.size());
  for (auto& [_, s] : by_name) out.push_back(std::move(s));
  return out;
}

std::string DescribeGlobalJson(const std::vector<SObjectInfo>& sobjects,
                               const std::string& version) {
  using json = nlohmann::json;
  const std::string base = "/services/data/" + version + "/sobjects/";
  json arr = json::array();
  for (const auto& s : sobjects) {
    json e = json::object();
    e["activateable"] = false;
    e["associateEntityType"] = nullptr;
    e["associateParentEntity"] = nullptr;
    e["createable"] = s.createable;
    e["custom"] = s.custom;
    e["customSetting"] = false;
    e["deepCloneable"] = false;
    e["deletable"] = s.deletable;
    e["deprecatedAndHidden"] = false;
    e["feedEnabled"] = false;
    e["hasSubtypes"] = false;
    e["isInterface"] = false;
    e["isSubtype"] = false;
    e["keyPrefix"] = s.key_prefix.empty() ? json(nullptr) : json(s.key_prefix);
    e["label"] = s.label;
    e["labelPlural"] = s.label + "s";
    e["layoutable"] = s.layoutable;
    e["mergeable"] = false;
    e["mruEnabled"] = s.layoutable;
    e["name"] = s.name;
    e["queryable"] = s.queryable;
    e["replicateable"] = s.queryable && !s.key_prefix.empty();
    e["retrieveable"] = s.queryable;
    e["searchable"] = s.searchable;
    e["triggerable"] = s.triggerable;
    e["undeletable"] = s.deletable && s.createable;
    e["updateable"] = s.updateable;
    e["urls"] = {{"sobject", base + s.name},
                 {"describe", base + s.name + "/describe"},
                 {"rowTemplate", base + s.name + "/{ID}"}};
    arr.push_back(std::move(e));
  }
  json body = json::object();
  body["encoding"] = "UTF-8";
  body["maxBatchSize"] = 200;
  body["sobjects"] = std::move(arr);
  return body.dump();
}

}  // namespace forcepipe::emulator
