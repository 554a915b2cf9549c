#pragma once

// The emulator's sObject catalogue for REST describeGlobal
// (GET /services/data/vXX.X/sobjects/), derived from the event bus's topics so it stays
// true when topics are added:
//   /event/<X>EventStream   -> <X>EventStream (real-time monitoring stream, not queryable)
//                              and its stored counterpart <X>Event (queryable big object)
//   /event/<X>__e           -> <X>__e (platform event, custom)
//   /event/<X>              -> <X> (standard event, e.g. ApiAnomalyEvent)
//   /data/<X>ChangeEvent    -> <X>ChangeEvent (change event; custom for <X>__ChangeEvent)
// Topics whose last path segment is not a plain API name (letters, digits, '_'), or /data/
// channels not ending in ChangeEvent (e.g. /data/ChangeEvents), contribute nothing. A fixed
// set of ordinary objects is always listed: Account, Contact, Opportunity, Lead, Case, User,
// EventLogFile, ApexLog. Entries are sorted by name, without duplicates.
//
// Thread safety: pure functions.

#include <string>
#include <vector>

namespace forcepipe::emulator {

struct SObjectInfo {
  std::string name;
  std::string label;
  std::string key_prefix;  // "" -> JSON null
  bool custom = false;
  bool queryable = false;
  bool createable = false;
  bool updateable = false;
  bool deletable = false;
  bool searchable = false;
  bool triggerable = false;
  bool layoutable = false;
};

// The catalogue for these bus topic names.
std::vector<SObjectInfo> SObjectsForTopics(const std::vector<std::string>& topic_names);

// The describeGlobal body: {"encoding":"UTF-8","maxBatchSize":200,"sobjects":[{...,
// "urls":{"sobject","describe","rowTemplate"}}]} with urls under /services/data/<version>/.
std::string DescribeGlobalJson(const std::vector<SObjectInfo>& sobjects,
                               const std::string& version);

// True for "v<digits>.<digits>" (e.g. v62.0).
bool IsRestApiVersion(const std::string& version);

// "LoginEventStream" -> "Login Event Stream"; "Order_Event__e" -> "Order Event".
std::string LabelFor(const std::string& api_name);

}  // namespace forcepipe::emulator
