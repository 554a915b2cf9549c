#include "emulator/generator.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>

#include "avro/encoder.h"
#include "emulator/util.h"

namespace forcepipe::emulator {

namespace {

const char* const kCompanies[] = {"Acme Corp",
                                  "Globex",
                                  "Initech",
                                  "Umbrella Ltd",
                                  "Stark Industries",
                                  "Wayne Enterprises",
                                  "Hooli",
                                  "Vandelay Industries",
                                  "Cyberdyne Systems",
                                  "Soylent Co"};
const char* const kFirst[] = {"Ada",    "Grace",    "Alan", "Edsger", "Barbara",
                              "Donald", "Margaret", "Ken",  "Radia",  "Linus"};
const char* const kLast[] = {"Lovelace", "Hopper",   "Turing",   "Dijkstra", "Liskov",
                             "Knuth",    "Hamilton", "Thompson", "Perlman",  "Torvalds"};
struct CityInfo {
  const char* city;
  const char* state;
  const char* country;
  const char* iso;
  double lat, lon;
};
const CityInfo kCities[] = {
    {"San Francisco", "CA", "United States", "US", 37.7749, -122.4194},
    {"New York", "NY", "United States", "US", 40.7128, -74.0060},
    {"London", "", "United Kingdom", "GB", 51.5072, -0.1276},
    {"Paris", "", "France", "FR", 48.8566, 2.3522},
    {"Berlin", "", "Germany", "DE", 52.5200, 13.4050},
    {"Tokyo", "", "Japan", "JP", 35.6762, 139.6503},
    {"Sydney", "NSW", "Australia", "AU", -33.8688, 151.2093},
};
const char* const kWords[] = {"strategic", "account", "renewal",  "priority",  "pipeline",
                              "quarterly", "review",  "customer", "expansion", "pilot"};

template <typename T, size_t N>
const T& Pick(const T (&arr)[N], std::mt19937_64& rng) {
  return arr[rng() % N];
}

bool Contains(const std::string& s, const char* sub) { return s.find(sub) != std::string::npos; }
bool EndsWith(const std::string& s, const char* suf) {
  size_t n = strlen(suf);
  return s.size() >= n && s.compare(s.size() - n, n, suf) == 0;
}

// The non-null branch to fill for a union (prefers a string branch, as Account.Name's
// company name), or the schema itself.
const avro::Schema& Unwrap(const avro::Schema& s) {
  if (s.type() != avro::Type::kUnion) return s;
  const avro::Schema* pick = nullptr;
  for (const avro::Schema* b : s.branches()) {
    if (b->type() == avro::Type::kString) return *b;
    if (!pick && b->type() != avro::Type::kNull) pick = b;
  }
  return pick ? *pick : s;
}

bool IsRecordField(const avro::Field& f) { return Unwrap(*f.type).type() == avro::Type::kRecord; }

bool IsSystemField(const std::string& name) {
  return name == "CreatedDate" || name == "CreatedById" || name == "LastModifiedDate" ||
         name == "LastModifiedById";
}

std::string Hex(const std::vector<size_t>& bits) {
  if (bits.empty()) return "";
  size_t max_bit = *std::max_element(bits.begin(), bits.end());
  size_t nbytes = max_bit / 8 + 1;
  std::vector<uint8_t> bytes(nbytes, 0);  // big-endian
  for (size_t b : bits) bytes[nbytes - 1 - b / 8] |= static_cast<uint8_t>(1u << (b % 8));
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (uint8_t v : bytes) {
    out.push_back(kHex[v >> 4]);
    out.push_back(kHex[v & 0xf]);
  }
  return out;
}

}  // namespace

std::optional<EventKind> EventKindFromName(std::string_view name) {
  if (name == "none") return EventKind::kNone;
  if (name == "cdc") return EventKind::kCdc;
  if (name == "login") return EventKind::kLogin;
  if (name == "platform") return EventKind::kPlatform;
  return std::nullopt;
}

std::string_view EventKindName(EventKind kind) {
  switch (kind) {
    case EventKind::kNone:
      return "none";
    case EventKind::kCdc:
      return "cdc";
    case EventKind::kLogin:
      return "login";
    case EventKind::kPlatform:
      return "platform";
  }
  return "none";
}

std::string FieldBitmap(const std::vector<size_t>& bits) {
  if (bits.empty()) return "";
  return "0x" + Hex(bits);
}

std::string SalesforceId(std::string_view prefix, uint64_t n) {
  static const char kB62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string id(prefix.substr(0, 3));
  while (id.size() < 3) id.push_back('0');
  std::string tail(12, '0');
  for (int i = 11; i >= 0 && n > 0; --i) {
    tail[i] = kB62[n % 62];
    n /= 62;
  }
  id += tail;
  return id + SalesforceIdSuffix(id);
}

std::string SalesforceIdSuffix(std::string_view id15) {
  static const char kSuffix[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
  std::string out;
  for (size_t chunk = 0; chunk < 3; ++chunk) {
    int flags = 0;
    for (size_t i = 0; i < 5 && chunk * 5 + i < id15.size(); ++i) {
      char c = id15[chunk * 5 + i];
      if (c >= 'A' && c <= 'Z') flags |= 1 << i;
    }
    out.push_back(kSuffix[flags]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// EventFactory

EventFactory::EventFactory(std::string topic, EventKind kind, uint64_t seed, Clock* clock)
    : topic_(std::move(topic)), kind_(kind), clock_(clock) {
  rng_.seed(seed ^ (std::hash<std::string>{}(topic_)*0x9E3779B97F4A7C15ULL));
  commit_user_ = SalesforceId("005", 1000 + rng_() % 50);
}

std::string EventFactory::NewRecordId() {
  return SalesforceId(key_prefix_, 1'000'000 + ++id_counter_);
}

std::string EventFactory::EntityName(const avro::Schema& schema) const {
  std::string n = schema.name();
  if (EndsWith(n, "__ChangeEvent")) return n.substr(0, n.size() - strlen("__ChangeEvent")) + "__c";
  if (EndsWith(n, "ChangeEvent")) return n.substr(0, n.size() - strlen("ChangeEvent"));
  return n;
}

void EventFactory::NextTransaction() {
  tx_key_ = UuidFrom(rng_);
  tx_seq_ = 0;
  tx_remaining_ = (rng_() % 10 < 7) ? 1 : 2 + static_cast<int>(rng_() % 3);
  commit_number_ += 1 + static_cast<int64_t>(rng_() % 1000);
  commit_ts_ = NowMillis(*clock_);
  commit_user_ = SalesforceId("005", 1000 + rng_() % 50);
}

avro::Value EventFactory::Fill(const avro::Schema& type_in, const std::string& name,
                               const std::string& doc, int depth) {
  const avro::Schema& t = Unwrap(type_in);
  auto& rng = rng_;
  const int64_t now = NowMillis(*clock_);
  switch (t.type()) {
    case avro::Type::kNull:
      return avro::Value::Null();
    case avro::Type::kBoolean:
      return avro::Value::Bool(rng() & 1);
    case avro::Type::kInt:
      if (Contains(name, "Employees")) return avro::Value::Int(1 + rng() % 50000);
      return avro::Value::Int(static_cast<int32_t>(rng() % 1000));
    case avro::Type::kLong:
      if (Contains(doc, "DateOnly")) {
        int64_t day = now / 86'400'000 - static_cast<int64_t>(rng() % 3650);
        return avro::Value::Long(day * 86'400'000);
      }
      if (Contains(doc, "TimeOnly")) return avro::Value::Long((rng() % 86400) * 1000);
      if (name == "CreatedDate" || name == "LastModifiedDate" || name == "EventDate") {
        return avro::Value::Long(now);
      }
      return avro::Value::Long(now - static_cast<int64_t>(rng() % 86'400'000));
    case avro::Type::kFloat:
      return avro::Value::Float(static_cast<float>(rng() % 10000) / 100.0f);
    case avro::Type::kDouble: {
      const CityInfo& c = Pick(kCities, rng);
      if (Contains(name, "Latitude")) return avro::Value::Double(c.lat);
      if (Contains(name, "Longitude")) return avro::Value::Double(c.lon);
      if (Contains(doc, "Percent"))
        return avro::Value::Double(static_cast<double>(rng() % 10000) / 100);
      if (Contains(name, "EvaluationTime"))
        return avro::Value::Double(static_cast<double>(rng() % 50) / 10);
      return avro::Value::Double(static_cast<double>(rng() % 100'000'000) / 100);
    }
    case avro::Type::kBytes:
    case avro::Type::kFixed: {
      std::string b(t.type() == avro::Type::kFixed ? t.size() : 8, '\0');
      for (auto& ch : b) ch = static_cast<char>(rng());
      return t.type() == avro::Type::kFixed ? avro::Value::Fixed(b) : avro::Value::Bytes(b);
    }
    case avro::Type::kEnum:
      return avro::Value::Enum(t.symbols().empty() ? 0 : rng() % t.symbols().size());
    case avro::Type::kArray:
      return avro::Value::Array({});
    case avro::Type::kMap:
      return avro::Value::Map({}, {});
    case avro::Type::kRecord:
      return FillRecord(t, 0.7, depth + 1);
    case avro::Type::kUnion:
      return avro::Value::Null();
    case avro::Type::kString:
      break;
  }
  // Strings: by name and doc (Role:Type).
  const CityInfo& city = Pick(kCities, rng);
  if (name == "CreatedById" || name == "LastModifiedById" || name == "OwnerId" ||
      name == "UserId") {
    return avro::Value::String(SalesforceId("005", 1000 + rng() % 50));
  }
  if (Contains(doc, "EntityId") || (EndsWith(name, "Id") && name.size() > 2)) {
    std::string prefix = "a0B";
    if (name == "AccountId" || name == "ParentId") prefix = "001";
    if (name == "RecordTypeId") prefix = "012";
    if (name == "ReportsToId" || name == "PersonContactId") prefix = "003";
    if (Contains(name, "Individual")) prefix = "0PK";
    if (name == "LoginHistoryId") prefix = "0Ya";
    if (name == "PolicyId") prefix = "0NI";
    return avro::Value::String(SalesforceId(prefix, 1000 + rng() % 100000));
  }
  if (Contains(doc, "Phone") || Contains(name, "Phone") || name == "Fax") {
    return avro::Value::String("(415) 555-0" + std::to_string(100 + rng() % 900));
  }
  if (Contains(doc, "Email") || Contains(name, "Email")) {
    std::string f = Pick(kFirst, rng), l = Pick(kLast, rng);
    std::transform(f.begin(), f.end(), f.begin(), ::tolower);
    std::transform(l.begin(), l.end(), l.begin(), ::tolower);
    return avro::Value::String(f + "." + l + "@example.com");
  }
  if (Contains(doc, "Url") || name == "Website") {
    return avro::Value::String("https://www.example.com/" + std::to_string(rng() % 1000));
  }
  if (name == "Name" || name == "Company") return avro::Value::String(Pick(kCompanies, rng));
  if (name == "FirstName") return avro::Value::String(Pick(kFirst, rng));
  if (name == "LastName") return avro::Value::String(Pick(kLast, rng));
  if (name == "MiddleName") return avro::Value::String("J");
  if (name == "Salutation") return avro::Value::String(rng() & 1 ? "Ms." : "Mr.");
  if (name == "Suffix") return avro::Value::String("");
  if (name == "Street") return avro::Value::String(std::to_string(1 + rng() % 999) + " Market St");
  if (name == "City") return avro::Value::String(city.city);
  if (name == "State" || name == "StateCode") return avro::Value::String(city.state);
  if (name == "Country") return avro::Value::String(city.country);
  if (name == "CountryCode" || name == "CountryIso") return avro::Value::String(city.iso);
  if (name == "PostalCode") return avro::Value::String(std::to_string(10000 + rng() % 89999));
  if (name == "GeocodeAccuracy") return avro::Value::String("Address");
  if (name == "Industry") {
    static const char* const k[] = {"Technology", "Finance", "Retail", "Energy", "Healthcare"};
    return avro::Value::String(Pick(k, rng));
  }
  if (name == "Type") {
    static const char* const k[] = {"Customer - Direct", "Prospect", "Partner", "Other"};
    return avro::Value::String(Pick(k, rng));
  }
  if (name == "Rating") {
    static const char* const k[] = {"Hot", "Warm", "Cold"};
    return avro::Value::String(Pick(k, rng));
  }
  // Login events.
  if (name == "Username") {
    std::string f = Pick(kFirst, rng);
    std::transform(f.begin(), f.end(), f.begin(), ::tolower);
    return avro::Value::String(f + "@acme.example.com");
  }
  if (name == "EventIdentifier" || name == "RelatedEventIdentifier") {
    return avro::Value::String(UuidFrom(rng));
  }
  if (name == "SourceIp") {
    return avro::Value::String(std::to_string(20 + rng() % 180) + "." +
                               std::to_string(rng() % 256) + "." + std::to_string(rng() % 256) +
                               "." + std::to_string(1 + rng() % 254));
  }
  if (name == "Status") {
    static const char* const k[] = {"Success",          "Success",
                                    "Success",          "Success",
                                    "Invalid Password", "Failed: Computer activation required"};
    return avro::Value::String(Pick(k, rng));
  }
  if (name == "LoginType") {
    static const char* const k[] = {"Application", "Remote Access 2.0", "SAML Sfdc Initiated SSO",
                                    "Other Apex API"};
    return avro::Value::String(Pick(k, rng));
  }
  if (name == "UserType") return avro::Value::String("Standard");
  if (name == "SessionLevel") return avro::Value::String("STANDARD");
  if (name == "LoginUrl") return avro::Value::String("acme.my.salesforce.com");
  if (name == "Browser") return avro::Value::String(rng() & 1 ? "Chrome 131" : "Firefox 133");
  if (name == "Platform") return avro::Value::String(rng() & 1 ? "Mac OSX" : "Windows 10");
  if (name == "Application") return avro::Value::String(rng() & 1 ? "Browser" : "Salesforce CLI");
  if (name == "ApiType") return avro::Value::String("REST");
  if (name == "ApiVersion") return avro::Value::String("62.0");
  if (name == "TlsProtocol") return avro::Value::String("TLS 1.3");
  if (name == "CipherSuite") return avro::Value::String("TLS_AES_256_GCM_SHA384");
  if (name == "PolicyOutcome") return avro::Value::String("NoAction");
  if (name == "AdditionalInfo") return avro::Value::String("{}");
  if (name == "LoginKey" || name == "SessionKey")
    return avro::Value::String(UuidFrom(rng).substr(0, 16));
  if (Contains(doc, "Enum")) {
    return avro::Value::String("Option " + std::to_string(1 + rng() % 5));
  }
  if (Contains(name, "Number")) {
    return avro::Value::String("ORD-" + std::to_string(100000 + rng() % 900000));
  }
  std::string text = std::string(Pick(kWords, rng)) + " " + Pick(kWords, rng);
  if (Contains(doc, "Clob") || name == "Description")
    text += " " + std::string(Pick(kWords, rng)) + ".";
  return avro::Value::String(text);
}

avro::Value EventFactory::FillRecord(const avro::Schema& record, double probability, int depth) {
  std::vector<avro::Value> fields;
  for (const auto& f : record.fields()) {
    bool nullable = f.type->type() == avro::Type::kUnion && f.type->null_branch() >= 0;
    if (nullable && (depth > 3 || std::uniform_real_distribution<>(0, 1)(rng_) >= probability)) {
      fields.push_back(avro::Value::Null());
    } else {
      fields.push_back(Fill(*f.type, f.name, f.doc, depth));
    }
  }
  return avro::Value::Record(std::move(fields));
}

avro::Value EventFactory::Header(const avro::Schema& hs, const std::string& change_type,
                                 const std::vector<std::string>& record_ids,
                                 const std::vector<std::string>& changed,
                                 const std::vector<std::string>& nulled,
                                 const std::vector<std::string>& diff) {
  auto strings = [](const std::vector<std::string>& v) {
    std::vector<avro::Value> items;
    for (const auto& s : v) items.push_back(avro::Value::String(s));
    return avro::Value::Array(std::move(items));
  };
  std::vector<avro::Value> fields;
  for (const auto& f : hs.fields()) {
    const avro::Schema& t = Unwrap(*f.type);
    if (f.name == "entityName")
      fields.push_back(avro::Value::String(entity_));
    else if (f.name == "recordIds")
      fields.push_back(strings(record_ids));
    else if (f.name == "changeType") {
      auto idx = t.FindSymbol(change_type);
      fields.push_back(avro::Value::Enum(idx.value_or(0)));
    } else if (f.name == "changeOrigin") {
      fields.push_back(avro::Value::String("com/salesforce/api/soap/62.0;client=SfdcInternalAPI/"));
    } else if (f.name == "transactionKey")
      fields.push_back(avro::Value::String(tx_key_));
    else if (f.name == "sequenceNumber")
      fields.push_back(avro::Value::Int(tx_seq_));
    else if (f.name == "commitTimestamp")
      fields.push_back(avro::Value::Long(commit_ts_));
    else if (f.name == "commitNumber")
      fields.push_back(avro::Value::Long(commit_number_));
    else if (f.name == "commitUser")
      fields.push_back(avro::Value::String(commit_user_));
    else if (f.name == "nulledFields")
      fields.push_back(strings(nulled));
    else if (f.name == "diffFields")
      fields.push_back(strings(diff));
    else if (f.name == "changedFields")
      fields.push_back(strings(changed));
    else
      fields.push_back(Fill(*f.type, f.name, f.doc, 3));
  }
  return avro::Value::Record(std::move(fields));
}

Result<GeneratedEvent> EventFactory::Next(const LoadedSchema& schema) {
  if (kind_ == EventKind::kCdc) return NextCdc(schema);
  return NextFlat(schema);
}

Result<GeneratedEvent> EventFactory::NextFlat(const LoadedSchema& schema) {
  const avro::Schema& s = *schema.schema;
  if (s.type() != avro::Type::kRecord) return Status::InvalidArgument("schema is not a record");
  // Platform events fill every field; login events leave a few optional ones null.
  avro::Value v = FillRecord(s, kind_ == EventKind::kLogin ? 0.95 : 1.0, 0);
  GeneratedEvent out;
  out.event.event_id = UuidFrom(rng_);
  out.event.schema_id = schema.id;
  FP_RETURN_IF_ERROR(avro::Encode(s, v, &out.event.payload));
  out.kind = kind_ == EventKind::kLogin ? "login" : "platform";
  return out;
}

Result<GeneratedEvent> EventFactory::NextCdc(const LoadedSchema& schema) {
  const avro::Schema& s = *schema.schema;
  if (s.type() != avro::Type::kRecord || s.fields().empty() ||
      Unwrap(*s.fields()[0].type).type() != avro::Type::kRecord) {
    return Status::InvalidArgument("not a change event schema: " + s.full_name());
  }
  entity_ = EntityName(s);
  if (key_prefix_.empty()) {
    key_prefix_ = entity_ == "Account"   ? "001"
                  : entity_ == "Contact" ? "003"
                                         : "a0" + std::string(1, "ABCDEFGH"[rng_() % 8]);
  }
  if (tx_remaining_ <= 0) NextTransaction();
  --tx_remaining_;
  ++tx_seq_;
  if (shape_.schema != &s) {  // per-schema field roles, computed once per schema version
    shape_ = CdcShape{};
    shape_.schema = &s;
    shape_.always_on_create.assign(s.fields().size(), 0);
    for (size_t i = 1; i < s.fields().size(); ++i) {
      const std::string& name = s.fields()[i].name;
      const bool system = IsSystemField(name);
      shape_.always_on_create[i] = system || name == "Name" || name == "OwnerId";
      if (!system) shape_.update_candidates.push_back(i);
      if (name == "LastModifiedDate") shape_.last_modified_date = i;
      if (name == "LastModifiedById") shape_.last_modified_by = i;
    }
  }

  int r = static_cast<int>(rng_() % 100);
  std::string op;
  if (live_.empty() || r < 30)
    op = "CREATE";
  else if (r < 80)
    op = "UPDATE";
  else if (r < 92)
    op = "DELETE";
  else
    op = dead_.empty() ? "UPDATE" : "UNDELETE";

  std::vector<std::string> ids;
  // Picks 1 (85%) or up to `max_n` (15%) distinct records of `pool` (indices into
  // records_), moved to pool[0..n) by a partial Fisher-Yates shuffle: O(n), not O(pool).
  auto pick_some = [&](std::vector<size_t>& pool, int max_n) {
    int n = (rng_() % 100 < 15) ? std::min<int>(max_n, static_cast<int>(pool.size())) : 1;
    n = std::max(1, std::min<int>(n, static_cast<int>(pool.size())));
    for (int j = 0; j < n; ++j) {
      std::swap(pool[j], pool[j + rng_() % (pool.size() - j)]);
    }
    return static_cast<size_t>(n);
  };
  // Moves pool[0..n) to the end of `to` (swap-with-back removal, highest index first, so
  // no chosen element is moved before it is taken).
  auto move_first = [](std::vector<size_t>& pool, size_t n, std::vector<size_t>& to) {
    for (size_t j = n; j-- > 0;) {
      to.push_back(pool[j]);
      pool[j] = pool.back();
      pool.pop_back();
    }
  };

  const auto& fields = s.fields();
  std::vector<avro::Value> values(fields.size(), avro::Value::Null());
  std::vector<std::string> changed, nulled, diff;

  if (op == "CREATE" || op == "UNDELETE") {
    if (op == "CREATE") {
      records_.push_back({NewRecordId(), false});
      live_.push_back(records_.size() - 1);
      ids.push_back(records_.back().id);
    } else {
      size_t n = pick_some(dead_, 3);
      for (size_t j = 0; j < n; ++j) {
        records_[dead_[j]].deleted = false;
        ids.push_back(records_[dead_[j]].id);
      }
      move_first(dead_, n, live_);
    }
    for (size_t i = 1; i < fields.size(); ++i) {
      const auto& f = fields[i];
      if (shape_.always_on_create[i] || rng_() % 100 < 35) {
        values[i] = Fill(*f.type, f.name, f.doc, 0);
      }
    }
  } else if (op == "DELETE") {
    size_t n = pick_some(live_, 4);
    for (size_t j = 0; j < n; ++j) {
      records_[live_[j]].deleted = true;
      ids.push_back(records_[live_[j]].id);
    }
    move_first(live_, n, dead_);
  } else {  // UPDATE
    size_t n = pick_some(live_, 4);
    for (size_t j = 0; j < n; ++j) ids.push_back(records_[live_[j]].id);
    std::vector<size_t>& candidates = shape_.update_candidates;
    size_t k = std::min<size_t>(candidates.size(), 1 + rng_() % 3);
    for (size_t j = 0; j < k; ++j) {  // the first k of a random permutation
      std::swap(candidates[j], candidates[j + rng_() % (candidates.size() - j)]);
    }
    std::vector<size_t> top_changed, top_nulled, top_diff;
    std::vector<std::pair<size_t, std::vector<size_t>>> nested;  // field -> nested bits
    for (size_t c = 0; c < k; ++c) {
      size_t i = candidates[c];
      const auto& f = fields[i];
      if (IsRecordField(f)) {
        // Compound field: only some components change; named as "P-0xHEX".
        const avro::Schema& rec = Unwrap(*f.type);
        std::vector<avro::Value> sub(rec.fields().size(), avro::Value::Null());
        std::vector<size_t> bits;
        size_t m = 1 + rng_() % std::min<size_t>(3, rec.fields().size());
        std::vector<size_t> order(rec.fields().size());
        for (size_t j = 0; j < order.size(); ++j) order[j] = j;
        std::shuffle(order.begin(), order.end(), rng_);
        for (size_t j = 0; j < m; ++j) {
          const auto& nf = rec.fields()[order[j]];
          sub[order[j]] = Fill(*nf.type, nf.name, nf.doc, 1);
          bits.push_back(order[j]);
        }
        std::sort(bits.begin(), bits.end());
        values[i] = avro::Value::Record(std::move(sub));
        nested.emplace_back(i, std::move(bits));
        continue;
      }
      bool nullable = f.type->type() == avro::Type::kUnion && f.type->null_branch() >= 0;
      if (nullable && rng_() % 100 < 20) {
        top_changed.push_back(i);
        top_nulled.push_back(i);  // value stays null
      } else if (Contains(f.doc, "PlusClob") && rng_() % 2 == 0) {
        values[i] = avro::Value::String("@@ -1,1 +1,1 @@\n-" + std::string(Pick(kWords, rng_)) +
                                        "\n+" + Pick(kWords, rng_) + "\n");
        top_changed.push_back(i);
        top_diff.push_back(i);
      } else {
        values[i] = Fill(*f.type, f.name, f.doc, 0);
        top_changed.push_back(i);
      }
    }
    for (size_t i : {shape_.last_modified_date, shape_.last_modified_by}) {
      if (i == 0 || (i == shape_.last_modified_by && rng_() % 100 >= 30)) continue;
      values[i] = Fill(*fields[i].type, fields[i].name, fields[i].doc, 0);
      top_changed.push_back(i);
    }
    std::sort(top_changed.begin(), top_changed.end());
    std::sort(nested.begin(), nested.end());
    if (!top_changed.empty()) changed.push_back(FieldBitmap(top_changed));
    for (const auto& [p, bits] : nested) changed.push_back(std::to_string(p) + "-0x" + Hex(bits));
    if (!top_nulled.empty()) nulled.push_back(FieldBitmap(top_nulled));
    if (!top_diff.empty()) diff.push_back(FieldBitmap(top_diff));
  }

  values[0] = Header(Unwrap(*fields[0].type), op, ids, changed, nulled, diff);
  GeneratedEvent out;
  out.event.event_id = UuidFrom(rng_);
  out.event.schema_id = schema.id;
  FP_RETURN_IF_ERROR(avro::Encode(s, avro::Value::Record(std::move(values)), &out.event.payload));
  out.kind = op;
  return out;
}

Result<GeneratedEvent> EventFactory::Gap(const LoadedSchema& schema, const std::string& change_type,
                                         int records) {
  const avro::Schema& s = *schema.schema;
  if (kind_ != EventKind::kCdc || s.fields().empty()) {
    return Status::FailedPrecondition("GAP events exist only on change event topics");
  }
  const avro::Schema& hs = Unwrap(*s.fields()[0].type);
  if (hs.type() != avro::Type::kRecord) return Status::InvalidArgument("no ChangeEventHeader");
  const avro::Schema* ct = nullptr;
  if (const avro::Field* f = hs.FindField("changeType")) ct = &Unwrap(*f->type);
  if (!ct || !ct->FindSymbol(change_type) || change_type.rfind("GAP_", 0) != 0) {
    return Status::InvalidArgument("not a GAP change type: " + change_type);
  }
  entity_ = EntityName(s);
  if (key_prefix_.empty())
    key_prefix_ = entity_ == "Account" ? "001" : entity_ == "Contact" ? "003" : "a0A";
  NextTransaction();
  tx_remaining_ = 0;
  tx_seq_ = 1;
  std::vector<std::string> ids;
  if (change_type == "GAP_OVERFLOW") {
    ids.push_back("000000000000000AAA");
  } else {
    for (int i = 0; i < std::max(1, records); ++i) {
      const bool deleted = change_type == "GAP_DELETE";
      records_.push_back({NewRecordId(), deleted});
      (deleted ? dead_ : live_).push_back(records_.size() - 1);
      ids.push_back(records_.back().id);
    }
  }
  std::vector<avro::Value> values(s.fields().size(), avro::Value::Null());
  values[0] = Header(hs, change_type, ids, {}, {}, {});
  GeneratedEvent out;
  out.event.event_id = UuidFrom(rng_);
  out.event.schema_id = schema.id;
  FP_RETURN_IF_ERROR(avro::Encode(s, avro::Value::Record(std::move(values)), &out.event.payload));
  out.kind = change_type;
  return out;
}

// ---------------------------------------------------------------------------------------
// Generator

Generator::Generator(EventBus* bus, SchemaRegistry* schemas, Clock* clock, uint64_t seed)
    : bus_(bus), schemas_(schemas), clock_(clock), seed_(seed) {}

Generator::~Generator() { Stop(); }

Status Generator::AddTopic(GeneratorTopic t) {
  if (!bus_->HasTopic(t.topic)) return Status::NotFound("unknown topic " + t.topic);
  std::lock_guard g(mu_);
  for (const auto& existing : topics_) {
    if (existing->cfg.topic == t.topic) return Status::AlreadyExists("generator for " + t.topic);
  }
  auto st = std::make_unique<TopicState>();
  st->factory = std::make_unique<EventFactory>(t.topic, t.kind, seed_, clock_);
  st->cfg = std::move(t);
  topics_.push_back(std::move(st));
  return Status::Ok();
}

Result<uint64_t> Generator::EmitOneLocked(TopicState& t) {
  auto schema_id = bus_->TopicSchemaId(t.cfg.topic);
  if (!schema_id.ok()) return schema_id.status();
  auto schema = schemas_->Find(*schema_id);
  if (!schema) return Status::NotFound("schema " + *schema_id + " not registered");
  auto ev = t.factory->Next(*schema);
  if (!ev.ok()) return ev.status();
  auto id = bus_->Append(t.cfg.topic, std::move(ev->event), "generated", ev->kind);
  if (id.ok()) emitted_.fetch_add(1);
  return id;
}

Result<std::vector<uint64_t>> Generator::Emit(const std::string& topic, int n) {
  std::lock_guard g(mu_);
  for (auto& t : topics_) {
    if (t->cfg.topic != topic) continue;
    if (t->cfg.kind == EventKind::kNone) {
      return Status::FailedPrecondition("topic " + topic + " has no generator kind");
    }
    std::vector<uint64_t> ids;
    for (int i = 0; i < n; ++i) {
      FP_ASSIGN_OR_RETURN(uint64_t id, EmitOneLocked(*t));
      ids.push_back(id);
    }
    return ids;
  }
  return Status::NotFound("no generator for topic " + topic);
}

Result<uint64_t> Generator::EmitGap(const std::string& topic, const std::string& change_type,
                                    int records) {
  std::lock_guard g(mu_);
  for (auto& t : topics_) {
    if (t->cfg.topic != topic) continue;
    FP_ASSIGN_OR_RETURN(std::string schema_id, bus_->TopicSchemaId(topic));
    auto schema = schemas_->Find(schema_id);
    if (!schema) return Status::NotFound("schema " + schema_id + " not registered");
    FP_ASSIGN_OR_RETURN(GeneratedEvent ev, t->factory->Gap(*schema, change_type, records));
    return bus_->Append(topic, std::move(ev.event), "gap", ev.kind);
  }
  return Status::NotFound("no generator for topic " + topic);
}

Result<uint64_t> Generator::EmitUndecodable(const std::string& topic) {
  FP_ASSIGN_OR_RETURN(std::string schema_id, bus_->TopicSchemaId(topic));
  BusEvent e;
  e.event_id = RandomUuid();
  e.schema_id = schema_id;
  // An over-long varint: invalid as the first value of any record (and as a union index).
  e.payload = std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12);
  return bus_->Append(topic, std::move(e), "undecodable", "undecodable");
}

void Generator::Start(double rate, uint64_t max_events) {
  std::lock_guard g(run_mu_);
  if (thread_.joinable()) return;
  rate_ = rate;
  max_events_ = max_events;
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void Generator::Stop() {
  {
    std::lock_guard g(run_mu_);
    stop_ = true;
  }
  run_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Generator::Pause() { paused_.store(true); }
void Generator::Resume() {
  paused_.store(false);
  run_cv_.notify_all();
}
void Generator::SetRate(double rate) {
  {
    std::lock_guard g(run_mu_);
    rate_ = rate;
  }
  run_cv_.notify_all();
}
double Generator::rate() const {
  std::lock_guard g(const_cast<std::mutex&>(run_mu_));
  return rate_;
}

void Generator::Loop() {
  // Paced on real steady time (never the bus clock, which an admin may jump by days).
  using SClock = std::chrono::steady_clock;
  auto next = SClock::now();
  uint64_t produced = 0;
  std::unique_lock l(run_mu_);
  while (!stop_) {
    if (paused_.load()) {
      run_cv_.wait_for(l, std::chrono::milliseconds(50), [&] { return stop_ || !paused_.load(); });
      next = SClock::now();
      continue;
    }
    if (max_events_ && produced >= max_events_) {
      run_cv_.wait(l, [&] { return stop_; });
      break;
    }
    double rate = rate_;
    if (rate > 0) {
      if (SClock::now() < next) {
        run_cv_.wait_until(l, next);
        continue;  // re-check stop/pause/rate
      }
      next += std::chrono::nanoseconds(static_cast<int64_t>(1e9 / rate));
      if (SClock::now() - next > std::chrono::seconds(1)) next = SClock::now();  // no bursts
    }
    bool idle = false;
    l.unlock();
    {
      std::lock_guard g(mu_);
      // Weighted round robin: each topic accrues credit by weight; the richest emits.
      TopicState* best = nullptr;
      for (auto& t : topics_) {
        if (t->cfg.kind == EventKind::kNone || t->cfg.weight <= 0) continue;
        t->credit += t->cfg.weight;
        if (!best || t->credit > best->credit) best = t.get();
      }
      idle = best == nullptr;
      if (best) {
        double total = 0;
        for (auto& t : topics_) {
          if (t->cfg.kind != EventKind::kNone && t->cfg.weight > 0) total += t->cfg.weight;
        }
        best->credit -= total;
        (void)EmitOneLocked(*best);
        ++produced;
      }
    }
    l.lock();
    if (idle) run_cv_.wait_for(l, std::chrono::milliseconds(100));
  }
}

}  // namespace forcepipe::emulator
