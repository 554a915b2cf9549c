// Pure-logic parts of the sql sink: DSN parsing and redaction, event ids,
// retention ages, history rendering.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "core/base64.h"
#include "core/log.h"
#include "sinks/sql/connection.h"
#include "sinks/sql/dsn.h"
#include "sinks/sql/history.h"
#include "sinks/sql/sql_sink.h"
#include "sinks/sql/sql_store.h"
#include "sinks/sql/tests/test_util.h"

namespace forcepipe::sql {
namespace {

TEST(SqlDsn, ParsesEachBackend) {
  auto d = ParseDsn("sqlite:///var/lib/fp/events.db");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->backend, Backend::kSqlite);
  EXPECT_EQ(d->path, "/var/lib/fp/events.db");

  d = ParseDsn("postgresql://fp:s%40cr%3At@db.example:6543/events?sslmode=require");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->backend, Backend::kPostgres);
  EXPECT_EQ(d->user, "fp");
  EXPECT_EQ(d->password, "s@cr:t");
  EXPECT_EQ(d->host, "db.example");
  EXPECT_EQ(d->port, 6543);
  EXPECT_EQ(d->database, "events");
  EXPECT_EQ(d->query, "sslmode=require");

  d = ParseDsn("mariadb://u:p@[::1]:3307/db");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->backend, Backend::kMariaDb);
  EXPECT_EQ(d->host, "::1");
  EXPECT_EQ(d->port, 3307);

  d = ParseDsn("mysql://u@localhost/db");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->port, 0);
  EXPECT_EQ(d->password, "");
}

TEST(SqlDsn, RejectsMalformedWithoutEchoingThePassword) {
  for (const char* bad :
       {"events.db", "oracle://u:topsecret@h/db", "postgresql://u:topsecret@h:99999/db",
        "postgresql://u:topsecret@h:5432", "mariadb://u:topsecret@:3306/db",
        "postgresql://u:top%zzsecret@h/db", "sqlite://", "mariadb://u:topsecret@h/db?x=1"}) {
    auto d = ParseDsn(bad);
    ASSERT_FALSE(d.ok()) << bad;
    EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(d.status().message().find("topsecret"), std::string::npos) << d.status().message();
  }
}

TEST(SqlDsn, RedactsPasswordEverywhere) {
  auto d = ParseDsn("postgresql://fp:p%40ss@h:5432/db");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->Redacted(), "postgresql://fp:****@h:5432/db");
  EXPECT_EQ(RedactSecret("auth p@ss failed for p%40ss", "p@ss"), "auth **** failed for ****");
  EXPECT_EQ(RedactSecret("nothing here", ""), "nothing here");
}

TEST(SqlDsn, PasswordWithUnencodedAtSlashAndQuestionMarkIsTakenWhole) {
  auto d = ParseDsn("postgresql://fp:Pw@Tail/x?y@db.example:5433/events?sslmode=disable");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->user, "fp");
  EXPECT_EQ(d->password, "Pw@Tail/x?y");
  EXPECT_EQ(d->host, "db.example");
  EXPECT_EQ(d->port, 5433);
  EXPECT_EQ(d->database, "events");
  EXPECT_EQ(d->query, "sslmode=disable");
  EXPECT_EQ(d->Redacted(), "postgresql://fp:****@db.example:5433/events?sslmode=disable");
}

TEST(SqlDsn, QueryPasswordIsHiddenFromRedactedAndRegistered) {
  auto d = ParseDsn("postgresql://fp@h/db?sslmode=require&password=QryPw%2B1x&sslpassword=KeyPw9z");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->password, "QryPw+1x");
  EXPECT_EQ(d->Redacted(), "postgresql://fp@h/db?sslmode=require&password=****&sslpassword=****");
  EXPECT_EQ(log::Redact("a QryPw+1x b QryPw%2B1x c KeyPw9z"), "a *** b *** c ***");
}

TEST(SqlDsn, EveryPasswordFormIsRegisteredAsASecret) {
  ASSERT_TRUE(ParseDsn("postgresql://fp:UiPw%40Enc9@h/db").ok());
  ASSERT_TRUE(ParseDsn("mariadb://fp:UiRaw@Pw7@h/db").ok());
  EXPECT_FALSE(ParseDsn("host=h user=fp password='Kw Pw\\'8' dbname=d").ok());
  EXPECT_FALSE(ParseDsn("host=h password=KwBare5 dbname=d").ok());
  EXPECT_EQ(log::Redact("UiPw@Enc9 UiPw%40Enc9 UiRaw@Pw7 Kw Pw'8 KwBare5"), "*** *** *** *** ***");
  EXPECT_EQ(log::Redact("Basic " + Base64Encode("fp:UiRaw@Pw7")), "Basic ***");
}

TEST(SqlDsn, PostgresConnectErrorCarriesNoPartOfAnAtPassword) {
  // Nothing listens on port 1: the error must be about the connection, with
  // no piece of the password (libpq's URI parser would have taken "Tail99@..."
  // as the host name and printed it).
  auto d = ParseDsn("postgresql://fp:CnryPg@Tail99@127.0.0.1:1/events");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ConnectOptions o;
  o.connect_timeout = std::chrono::seconds(2);
  auto c = Connect(*d, o);
  ASSERT_FALSE(c.ok());
  const std::string msg = c.status().ToString();
  EXPECT_EQ(msg.find("Tail99"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("CnryPg"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("translate host name"), std::string::npos) << msg;
}

TEST(SqlHistory, ErrorsCarryNoQueryPassword) {
  testing::TempDir dir;
  StoreOptions o;
  auto d = ParseDsn("postgresql://fp@127.0.0.1:1/events?password=HistQryPw42");
  ASSERT_TRUE(d.ok());
  o.dsn = *d;
  o.connect.connect_timeout = std::chrono::seconds(2);
  std::ostringstream out, err;
  EXPECT_EQ(RunHistory(o, "001", 10, "", false, out, err), 1);
  EXPECT_NE(err.str().find("127.0.0.1"), std::string::npos) << err.str();
  EXPECT_EQ(err.str().find("HistQryPw42"), std::string::npos) << err.str();
}

TEST(SqlEventUuid, UsesEventIdElseDeterministicPositionHash) {
  testing::EntrySpec s;
  s.id = "e-1";
  EXPECT_EQ(EventUuid(testing::MakeEntry(s)), "e-1");
  testing::EntrySpec a;
  a.checkpoint_value = "42";
  testing::EntrySpec b = a;
  b.line = "{\"different\":true}";  // same position -> same id
  testing::EntrySpec c = a;
  c.checkpoint_value = "43";
  const std::string ida = EventUuid(testing::MakeEntry(a));
  EXPECT_EQ(ida.substr(0, 3), "fp-");
  EXPECT_EQ(ida.size(), 35u);
  EXPECT_EQ(ida, EventUuid(testing::MakeEntry(b)));
  EXPECT_NE(ida, EventUuid(testing::MakeEntry(c)));
}

TEST(SqlRetention, ParsesDaysAndCompoundDurations) {
  EXPECT_EQ(*ParseRetentionAge("30d"), std::chrono::hours(24 * 30));
  EXPECT_EQ(*ParseRetentionAge("1d12h"), std::chrono::hours(36));
  EXPECT_EQ(*ParseRetentionAge("90m"), std::chrono::minutes(90));
  EXPECT_EQ(*ParseRetentionAge("1500ms"), std::chrono::milliseconds(1500));
  for (const char* bad : {"", "30", "d", "3w", "-1d", "0s", "1d x"}) {
    EXPECT_FALSE(ParseRetentionAge(bad).ok()) << bad;
  }
}

TEST(SqlHistory, ChangedValuesWalkCompoundFields) {
  auto v = ChangedValues(R"({"Name":"Acme","Address":{"City":"Paris"},"N":3})",
                         R"(["Name","Address.City","Missing","N"])");
  ASSERT_EQ(v.size(), 4u);
  EXPECT_EQ(v[0].second, "\"Acme\"");
  EXPECT_EQ(v[1].second, "\"Paris\"");
  EXPECT_EQ(v[2].second, "null");
  EXPECT_EQ(v[3].second, "3");
  EXPECT_TRUE(ChangedValues("{}", "not json").empty());
}

TEST(SqlHistory, PrintsTextAndJson) {
  HistoryRow r;
  r.event_uuid = "u1";
  r.object_type = "Account";
  r.event_type = "AccountChangeEvent";
  r.ts_ms = 1'700'000'000'123;
  r.change_type = "UPDATE";
  r.commit_user = "005U";
  r.changed_fields = R"(["Name"])";
  r.payload = R"({"Name":"New"})";
  std::ostringstream text;
  PrintHistory({r}, false, text);
  EXPECT_EQ(text.str(),
            "2023-11-14T22:13:20.123Z  UPDATE  AccountChangeEvent  Account  user 005U  event u1\n"
            "    Name = \"New\"\n");
  std::ostringstream json;
  PrintHistory({r}, true, json);
  auto doc = nlohmann::json::parse(json.str());
  ASSERT_EQ(doc.size(), 1u);
  EXPECT_EQ(doc[0]["change_type"], "UPDATE");
  EXPECT_EQ(doc[0]["time"], "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(doc[0]["changed_fields"]["Name"], "New");
  EXPECT_EQ(doc[0]["payload"]["Name"], "New");
  EXPECT_TRUE(doc[0]["transaction_key"].is_null());
  std::ostringstream none;
  PrintHistory({}, false, none);
  EXPECT_EQ(none.str(), "no events\n");
}

TEST(SqlHistory, MissingStoreIsAClearError) {
  testing::TempDir dir;
  StoreOptions o;
  o.dsn = *ParseDsn("sqlite://" + dir.path() + "/absent.db");
  std::ostringstream out, err;
  EXPECT_EQ(RunHistory(o, "001", 10, "", false, out, err), 1);
  EXPECT_NE(err.str().find("absent.db"), std::string::npos) << err.str();
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/absent.db"));
}

}  // namespace
}  // namespace forcepipe::sql
