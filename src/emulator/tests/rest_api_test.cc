// The emulator's REST describeGlobal (GET /services/data/vNN.N/sobjects/) over real HTTPS on
// loopback port 0 with the generated CA, and the catalogue it is built from (sobjects.h).

#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "emulator/emulator.h"
#include "emulator/sobjects.h"

namespace forcepipe::emulator {
namespace {

using json = nlohmann::json;

struct RestFixture {
  explicit RestFixture(std::vector<TopicConfig> topics = {}) {
    EmulatorOptions o;
    o.clock = &clock;
    o.generate = false;
    o.topics = std::move(topics);
    emu = std::make_unique<Emulator>(o);
    Status st = emu->Start();
    EXPECT_TRUE(st.ok()) << st.ToString();
    http = std::make_unique<httplib::Client>(emu->endpoints().http_endpoint);
    http->set_ca_cert_path(emu->endpoints().ca_file.c_str());
    http->enable_server_certificate_verification(true);
  }
  httplib::Result Get(const std::string& path, const std::string& token) {
    httplib::Headers h;
    if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
    return http->Get(path.c_str(), h);
  }
  json DescribeOk(const std::string& path) {
    auto r = Get(path, emu->endpoints().access_token);
    EXPECT_TRUE(r) << path;
    if (!r) return {};
    EXPECT_EQ(r->status, 200) << path << " " << r->body;
    return json::parse(r->body, nullptr, false);
  }
  // The bus topics /event/<X> with X ending in EventStream, as /event/<X>.
  std::vector<std::string> BusEventStreams() {
    std::vector<std::string> out;
    for (const auto& t : emu->bus().TopicNames()) {
      if (t.rfind("/event/", 0) == 0 && t.size() > 18 &&
          t.compare(t.size() - 11, 11, "EventStream") == 0) {
        out.push_back(t);
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  ManualClock clock;
  std::unique_ptr<Emulator> emu;
  std::unique_ptr<httplib::Client> http;
};

// "api-usage=<used>/<max>" with both positive integers.
bool IsApiUsage(const std::string& v) {
  const std::string prefix = "api-usage=";
  if (v.rfind(prefix, 0) != 0) return false;
  size_t slash = v.find('/');
  auto positive = [](const std::string& d) {
    return !d.empty() && d[0] != '0' &&
           std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  return slash != std::string::npos && positive(v.substr(prefix.size(), slash - prefix.size())) &&
         positive(v.substr(slash + 1));
}

std::vector<std::string> Names(const json& body) {
  std::vector<std::string> out;
  for (const auto& e : body.at("sobjects")) out.push_back(e.at("name").get<std::string>());
  return out;
}

const json* Find(const json& body, const std::string& name) {
  for (const auto& e : body.at("sobjects")) {
    if (e.at("name") == name) return &e;
  }
  return nullptr;
}

void ExpectSalesforceError(const httplib::Result& r, int status, const std::string& code) {
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, status) << r->body;
  json j = json::parse(r->body, nullptr, false);
  ASSERT_TRUE(j.is_array() && j.size() == 1 && j[0].is_object()) << r->body;
  EXPECT_EQ(j[0].value("errorCode", ""), code);
  EXPECT_FALSE(j[0].value("message", "").empty());
}

TEST(DescribeGlobal, ReturnsSalesforceShapeWithEventsPlatformEventsAndOrdinaryObjects) {
  RestFixture f;
  auto r = f.Get("/services/data/v62.0/sobjects/", f.emu->endpoints().access_token);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_NE(r->get_header_value("Content-Type").find("application/json"), std::string::npos);
  EXPECT_TRUE(IsApiUsage(r->get_header_value("Sforce-Limit-Info")))
      << r->get_header_value("Sforce-Limit-Info");
  json j = json::parse(r->body, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r->body;
  EXPECT_EQ(j.value("encoding", ""), "UTF-8");
  EXPECT_EQ(j.value("maxBatchSize", 0), 200);
  ASSERT_TRUE(j.contains("sobjects") && j["sobjects"].is_array());

  std::vector<std::string> names = Names(j);
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size());
  for (const auto& e : j["sobjects"]) {
    const std::string n = e.at("name");
    EXPECT_TRUE(e.at("label").is_string() && !e.at("label").get<std::string>().empty()) << n;
    EXPECT_TRUE(e.at("keyPrefix").is_null() || e.at("keyPrefix").is_string()) << n;
    EXPECT_TRUE(e.at("custom").is_boolean()) << n;
    EXPECT_TRUE(e.at("queryable").is_boolean()) << n;
    EXPECT_EQ(e.at("urls").value("sobject", ""), "/services/data/v62.0/sobjects/" + n);
    EXPECT_EQ(e.at("urls").value("describe", ""),
              "/services/data/v62.0/sobjects/" + n + "/describe");
    EXPECT_EQ(e.at("urls").value("rowTemplate", ""),
              "/services/data/v62.0/sobjects/" + n + "/{ID}");
  }
  for (const char* n :
       {"Account", "Contact", "Opportunity", "Lead", "Case", "User", "EventLogFile", "ApexLog"}) {
    const json* e = Find(j, n);
    ASSERT_NE(e, nullptr) << n;
    EXPECT_TRUE(e->at("queryable").get<bool>()) << n;
    EXPECT_FALSE(e->at("custom").get<bool>()) << n;
    EXPECT_TRUE(e->at("keyPrefix").is_string()) << n;
  }
  EXPECT_EQ(Find(j, "Account")->at("keyPrefix"), "001");
  EXPECT_EQ(Find(j, "EventLogFile")->at("keyPrefix"), "0AT");

  const json* login = Find(j, "LoginEventStream");
  ASSERT_NE(login, nullptr);
  EXPECT_EQ(login->at("label"), "Login Event Stream");
  EXPECT_FALSE(login->at("custom").get<bool>());
  EXPECT_FALSE(login->at("queryable").get<bool>());
  EXPECT_TRUE(login->at("keyPrefix").is_null());
  const json* stored = Find(j, "LoginEvent");
  ASSERT_NE(stored, nullptr);
  EXPECT_TRUE(stored->at("queryable").get<bool>());

  const json* order = Find(j, "Order_Event__e");
  ASSERT_NE(order, nullptr);
  EXPECT_TRUE(order->at("custom").get<bool>());
  EXPECT_EQ(order->at("label"), "Order Event");
  EXPECT_NE(Find(j, "AccountChangeEvent"), nullptr);
  EXPECT_NE(Find(j, "ContactChangeEvent"), nullptr);
}

TEST(DescribeGlobal, EventStreamSuffixFilterYieldsExactlyTheBusEventStreamTopics) {
  // Topics beyond the defaults: another stream, a Threat Detection event without the
  // Stream suffix, a mirror channel (not an sObject).
  std::vector<TopicConfig> topics = DefaultTopics();
  topics.push_back(
      {"/event/ApiEventStream", "LoginEventStream", "", EventKind::kLogin, 1, 0, false});
  topics.push_back(
      {"/event/ApiAnomalyEvent", "LoginEventStream", "", EventKind::kLogin, 1, 0, false});
  TopicConfig mirror;
  mirror.name = "/data/ChangeEvents";
  mirror.mirror_of = {"/data/AccountChangeEvent", "/data/ContactChangeEvent"};
  topics.push_back(mirror);
  RestFixture f(topics);

  json j = f.DescribeOk("/services/data/v62.0/sobjects/");
  std::vector<std::string> filtered;
  for (const auto& n : Names(j)) {
    if (n.size() > 11 && n.compare(n.size() - 11, 11, "EventStream") == 0) {
      filtered.push_back("/event/" + n);
    }
  }
  std::sort(filtered.begin(), filtered.end());
  EXPECT_EQ(filtered, f.BusEventStreams());
  EXPECT_EQ(filtered,
            (std::vector<std::string>{"/event/ApiEventStream", "/event/LoginEventStream"}));
  EXPECT_NE(Find(j, "ApiAnomalyEvent"), nullptr);
  EXPECT_NE(Find(j, "ApiEvent"), nullptr);  // stored counterpart of ApiEventStream
  EXPECT_EQ(Find(j, "ChangeEvents"), nullptr);
}

TEST(DescribeGlobal, AnyVersionWithOrWithoutTrailingSlashServesTheSameList) {
  RestFixture f;
  json a = f.DescribeOk("/services/data/v62.0/sobjects/");
  json b = f.DescribeOk("/services/data/v62.0/sobjects");
  json c = f.DescribeOk("/services/data/v60.0/sobjects/");
  json d = f.DescribeOk("/services/data/v99.0/sobjects");
  EXPECT_EQ(a, b);
  EXPECT_EQ(Names(a), Names(c));
  EXPECT_EQ(Names(a), Names(d));
  EXPECT_EQ(Find(c, "Account")->at("urls").value("sobject", ""),
            "/services/data/v60.0/sobjects/Account");
}

TEST(DescribeGlobal, RequiresALiveAccessToken) {
  RestFixture f;
  const std::string path = "/services/data/v62.0/sobjects/";
  ExpectSalesforceError(f.Get(path, ""), 401, "INVALID_SESSION_ID");
  ExpectSalesforceError(f.Get(path, "00Dnotatoken!AQbogus"), 401, "INVALID_SESSION_ID");
  auto basic =
      f.http->Get(path.c_str(), {{"Authorization", "Basic " + f.emu->endpoints().access_token}});
  ExpectSalesforceError(basic, 401, "INVALID_SESSION_ID");
  // The same token works until every access token is expired.
  ASSERT_EQ(f.Get(path, f.emu->endpoints().access_token)->status, 200);
  f.emu->tokens().ExpireAllAccessTokens();
  ExpectSalesforceError(f.Get(path, f.emu->endpoints().access_token), 401, "INVALID_SESSION_ID");
  // A newly minted token works again.
  std::string fresh =
      f.emu->tokens().IssueAccessToken(f.emu->oauth().options().username, f.emu->oauth().user_id());
  EXPECT_EQ(f.Get(path, fresh)->status, 200);
}

TEST(DescribeGlobal, MalformedVersionIsNotFoundInSalesforceShape) {
  RestFixture f;
  const std::string token = f.emu->endpoints().access_token;
  ExpectSalesforceError(f.Get("/services/data/latest/sobjects/", token), 404, "NOT_FOUND");
  ExpectSalesforceError(f.Get("/services/data/v62/sobjects", token), 404, "NOT_FOUND");
  ExpectSalesforceError(f.Get("/services/data/62.0/sobjects/", ""), 404, "NOT_FOUND");
}

TEST(SObjects, CatalogueIsDerivedFromTopicNames) {
  auto list = SObjectsForTopics({"/event/LoginEventStream", "/event/Low_Ink__e",
                                 "/data/Some_Custom_Object__ChangeEvent", "/data/ChangeEvents",
                                 "/event/bad-name", "/other/Thing", "noslash"});
  std::map<std::string, SObjectInfo> by;
  for (const auto& s : list) by[s.name] = s;
  EXPECT_EQ(by.size(), list.size());
  ASSERT_TRUE(by.count("LoginEventStream"));
  ASSERT_TRUE(by.count("LoginEvent"));
  EXPECT_TRUE(by["LoginEvent"].queryable);
  ASSERT_TRUE(by.count("Low_Ink__e"));
  EXPECT_TRUE(by["Low_Ink__e"].custom);
  EXPECT_EQ(by["Low_Ink__e"].label, "Low Ink");
  ASSERT_TRUE(by.count("Some_Custom_Object__ChangeEvent"));
  EXPECT_TRUE(by["Some_Custom_Object__ChangeEvent"].custom);
  EXPECT_FALSE(by.count("ChangeEvents"));
  EXPECT_FALSE(by.count("bad-name"));
  EXPECT_FALSE(by.count("Thing"));
  EXPECT_FALSE(by.count("noslash"));
  EXPECT_EQ(by.size(), 8u + 4u);  // the ordinary objects + the four derived ones
  EXPECT_EQ(LabelFor("LoginEventStream"), "Login Event Stream");
  EXPECT_TRUE(IsRestApiVersion("v62.0"));
  EXPECT_TRUE(IsRestApiVersion("v9.10"));
  for (const char* bad : {"62.0", "v62", "v62.", "v.0", "va.0", "v6x.0", "v62.0.1", ""}) {
    EXPECT_FALSE(IsRestApiVersion(bad)) << bad;
  }
}

}  // namespace
}  // namespace forcepipe::emulator
