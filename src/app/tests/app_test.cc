#include "app/app.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "config/loader.h"
#include "sources/synthetic/synthetic_source.h"
#include "testing/fakes.h"
#include "testing/process.h"

namespace forcepipe::app {
namespace {

class AppConfig : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(RegisterBuiltins(registry_).ok()); }
  Status Load(const std::string& yaml) {
    auto root = config::ParseYaml(yaml, "t.yaml");
    if (!root.ok()) return root.status();
    auto c = LoadConfig(*root, registry_);
    return c.status();
  }
  Registry registry_;
};

TEST_F(AppConfig, RegistryRejectsDuplicateNames) {
  Status s = registry_.sources.Register(SyntheticSourceFactory());
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists);
}

TEST_F(AppConfig, SourcesAreRequired) {
  Status s = Load("sinks: {out: {type: synthetic}}\n");
  EXPECT_NE(s.message().find("sources: expected a mapping"), std::string::npos) << s.message();
}

TEST_F(AppConfig, UnknownKindNamesPathAndChoices) {
  Status s = Load("sources: {gen: {type: kafka}}\nsinks: {out: {type: x}}\n");
  EXPECT_NE(s.message().find("sources.gen.type: unknown kind \"kafka\"; expected one of"),
            std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("synthetic"), std::string::npos);
}

TEST_F(AppConfig, SourceOptionErrorsNameFullPath) {
  Status s = Load("sources: {gen: {type: synthetic, rate: fast}}\nsinks: {out: {type: x}}\n");
  EXPECT_EQ(s.message(), "sources.gen.rate: expected a number, got \"fast\"");
  Status u = Load("sources: {gen: {type: synthetic, speed: 3}}\nsinks: {out: {type: x}}\n");
  EXPECT_NE(u.message().find("sources.gen.speed: unknown key"), std::string::npos) << u.message();
}

TEST_F(AppConfig, UnknownTopLevelKeyListsEveryKnownKey) {
  Status s = Load("sorces: {}\n");
  EXPECT_NE(s.message().find("sorces: unknown key"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("sources"), std::string::npos);
}

TEST_F(AppConfig, TopLevelSectionsAreValidated) {
  Status s = Load("pipeline: {streaming: {max_bytes: huge}}\nsources: {gen: {type: synthetic}}\n");
  EXPECT_EQ(s.message(), "pipeline.streaming.max_bytes: expected a size like 1MiB, got \"huge\"");
}

// Issue #12 M4: keys under pipeline: and server: report their own line, and
// the keys listed as allowed are the section's own.
TEST_F(AppConfig, NestedTopLevelErrorsNameTheirLineAndSectionKeys) {
  Status p =
      Load("sources: {gen: {type: synthetic}}\npipeline:\n  shutdown_grace: 1s\n  bogus: 1\n");
  EXPECT_NE(p.message().find("pipeline.bogus: unknown key (line 4)"), std::string::npos)
      << p.message();
  EXPECT_EQ(p.message().find("sources"), std::string::npos) << p.message();
  Status v = Load("sources: {gen: {type: synthetic}}\nserver:\n  listen: [1]\n");
  EXPECT_NE(v.message().find("server.listen: expected a string, got a list (line 3)"),
            std::string::npos)
      << v.message();
  Status top = Load("sorces: {}\n");
  EXPECT_NE(top.message().find("sorces: unknown key (line 1); expected one of: data_dir, "
                               "pipeline, server, checkpoint, sources, sinks"),
            std::string::npos)
      << top.message();
}

// Issue #12 M4: a retry policy whose first wait exceeds its longest wait.
TEST_F(AppConfig, InitialBackoffAboveMaxBackoffIsAnError) {
  Status s = Load(
      "sources: {gen: {type: synthetic}}\n"
      "sinks: {out: {type: stdout, retry: {initial_backoff: 1m, max_backoff: 10s}}}\n");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("sinks.out.retry.initial_backoff: 1m is longer than "
                             "sinks.out.retry.max_backoff (10s)"),
            std::string::npos)
      << s.message();
  Status r = Load(
      "sources: {sf: {type: pubsub, endpoint: '127.0.0.1:1', topics: [/data/ChangeEvents], "
      "reconnect_initial_backoff: 2m, reconnect_max_backoff: 1m, auth: {flow: static, "
      "access_token: t, instance_url: 'http://127.0.0.1:1', org_id: 00D000000000001AAA}}}\n"
      "sinks: {out: {type: stdout}}\n");
  EXPECT_NE(r.message().find("sources.sf.reconnect_initial_backoff: 2m is longer than "
                             "sources.sf.reconnect_max_backoff (1m)"),
            std::string::npos)
      << r.message();
}

// Issue #12 M4: a factory's error names the path once (it was printed three
// times: by the engine builder, the Pub/Sub factory and the auth factory).
TEST_F(AppConfig, FactoryErrorNamesThePathOnce) {
  auto root = config::ParseYaml(
      "sources: {sf: {type: pubsub, endpoint: '127.0.0.1:1', topics: [/data/ChangeEvents], "
      "auth: {flow: static, access_token: t, instance_url: 'http://127.0.0.1:1', org_id: bad}}}\n"
      "sinks: {out: {type: stdout}}\ncheckpoint: {type: file, path: /nonexistent/cp.json}\n",
      "t.yaml");
  ASSERT_TRUE(root.ok());
  auto c = LoadConfig(*root, registry_);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  Status s = CheckConfig(**c);
  ASSERT_FALSE(s.ok());
  const std::string& m = s.message();
  EXPECT_EQ(m.rfind("sources.sf.auth: ", 0), 0u) << m;
  EXPECT_EQ(m.find("sources.sf"), m.rfind("sources.sf")) << m;
  EXPECT_NE(m.find("org_id"), std::string::npos) << m;
}

// Issue #12 S1: a DSN (a secret) with a bad ${ is not printed.
TEST_F(AppConfig, DsnInterpolationErrorDoesNotPrintTheDsn) {
  Status s = Load(
      "sources: {gen: {type: synthetic}}\n"
      "sinks: {db: {type: sql, dsn: 'postgresql://u:Hunter2pw@h/${db'}}\n");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message().find("Hunter2pw"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("sinks.db.dsn: unterminated ${"), std::string::npos) << s.message();
}

// Issue #12 S2: a server token that is empty or unreadable never turns auth off.
TEST_F(AppConfig, EmptyOrUnreadableServerAuthTokenIsAnError) {
  const std::string base = "sources: {gen: {type: synthetic}}\nsinks: {out: {type: stdout}}\n";
  Status empty = Load(base + "server: {auth_token: ''}\n");
  EXPECT_EQ(empty.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(empty.message().find("server.auth_token: "), std::string::npos) << empty.message();
  testing::TempDir dir;
  testing::WriteFile(dir.File("empty"), "");
  Status file = Load(base + "server: {auth_token_file: '" + dir.File("empty") + "'}\n");
  EXPECT_NE(file.message().find("server.auth_token_file: "), std::string::npos) << file.message();
  EXPECT_NE(file.message().find(dir.File("empty")), std::string::npos) << file.message();
  Status d = Load(base + "server: {auth_token_file: '" + dir.path() + "'}\n");
  EXPECT_NE(d.message().find("server.auth_token_file: "), std::string::npos) << d.message();
  EXPECT_NE(d.message().find(dir.path() + ": is a directory"), std::string::npos) << d.message();
}

// Issue #12 M3 and C1: a CA file that is a directory or a device is a config
// error (it failed only when the source connected, or grew without bound).
TEST_F(AppConfig, CaFileThatIsNotARegularFileIsAnError) {
  testing::TempDir dir;
  for (const std::string& ca : {dir.path(), std::string("/dev/zero"), dir.File("missing.pem")}) {
    Status s = Load(
        "sources: {sf: {type: pubsub, endpoint: '127.0.0.1:1', topics: [/data/ChangeEvents], "
        "ca_file: '" +
        ca +
        "', auth: {flow: static, access_token: t, instance_url: 'http://127.0.0.1:1', org_id: "
        "00D000000000001AAA}}}\nsinks: {out: {type: stdout}}\n");
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << ca;
    EXPECT_NE(s.message().find("sources.sf.ca_file: " + ca + ": "), std::string::npos)
        << s.message();
  }
  testing::WriteFile(dir.File("ca.pem"), "-----BEGIN CERTIFICATE-----\n");
  Status ok = Load(
      "sources: {sf: {type: pubsub, endpoint: '127.0.0.1:1', topics: [/data/ChangeEvents], "
      "auth: {flow: static, access_token: t, instance_url: 'http://127.0.0.1:1', org_id: "
      "00D000000000001AAA, ca_file: '" +
      dir.File("ca.pem") + "'}}}\nsinks: {out: {type: stdout}}\n");
  EXPECT_TRUE(ok.ok()) << ok.ToString();
}

// Issue #12 L3: two sources of one name would share a checkpoint key.
TEST_F(AppConfig, DuplicateSourceNameIsAnError) {
  testing::TempDir dir;
  std::string f = dir.File("c.yaml");
  testing::WriteFile(f,
                     "sources:\n  gen: {type: synthetic}\n  gen: {type: synthetic, rate: 5}\n"
                     "sinks: {out: {type: stdout}}\n");
  auto c = LoadConfigFile(f, registry_);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("sources.gen: duplicate key \"gen\" (first at line 2)"),
            std::string::npos)
      << c.status().message();
  EXPECT_NE(c.status().message().find(f + ":3:"), std::string::npos) << c.status().message();
}

// Issue #12 M3: what BuildEngine would reject, CheckConfig rejects without
// creating or connecting to anything.
TEST_F(AppConfig, CheckConfigRejectsWhatRunRejects) {
  testing::TempDir dir;
  const std::string gen = "sources: {gen: {type: synthetic}}\n";
  struct Case {
    std::string yaml;
    std::string want;
  };
  std::vector<Case> cases = {
      {gen + "sinks: {out: {type: jsonl, path: '" + dir.File("e.jsonl") + "'}}\n",
       "checkpoint: required because sink out"},
      {gen + "sinks: {out: {type: stdout}}\nserver: {listen: localhost}\n",
       "server.listen: expected host:port"},
      {gen + "sinks: {out: {type: stdout}}\nserver: {listen: '999.1.1.1:99999'}\n",
       "server.listen: "},
      {gen + "sinks: {out: {type: stdout}}\nserver: {listen: '127.0.0.1:99999'}\n",
       "server.listen: port"},
      {gen + "sinks: {out: {type: stdout}}\ndata_dir: ''\n", "data_dir: "},
      {gen + "sinks: {db: {type: sql, dsn: 'oracle://h/db'}}\n", "sinks.db.dsn: "},
      {gen + "sinks: {db: {type: sql, dsn: 'sqlite://" + dir.File("x.db") +
           "', retention: {'*': forever}}}\n",
       "sinks.db.retention.*: "},
      {"sources: {sf: {type: pubsub, endpoint: '127.0.0.1:1', topics: [AccountChangeEvent], "
       "auth: {flow: static, access_token: t, instance_url: 'http://127.0.0.1:1', org_id: "
       "00D000000000001AAA}}}\nsinks: {out: {type: stdout}}\n"
       "checkpoint: {type: file, path: '" +
           dir.File("cp.json") + "'}\n",
       "sources.sf.topics: "},
  };
  for (const auto& c : cases) {
    auto root = config::ParseYaml(c.yaml, "t.yaml");
    ASSERT_TRUE(root.ok()) << root.status().ToString();
    Status s;
    auto loaded = LoadConfig(*root, registry_);
    if (!loaded.ok()) {
      s = loaded.status();
    } else {
      s = CheckConfig(**loaded);
    }
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.yaml << s.ToString();
    EXPECT_NE(s.message().find(c.want), std::string::npos) << c.yaml << " -> " << s.message();
  }
  // Nothing was created.
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
  EXPECT_FALSE(std::filesystem::exists("forcepipe-data"));
}

TEST_F(AppConfig, CheckConfigAcceptsAValidConfigWithoutCreatingFiles) {
  testing::TempDir dir;
  auto root = config::ParseYaml("data_dir: '" + dir.File("data") +
                                    "'\nsources: {gen: {type: synthetic}}\n"
                                    "sinks: {out: {type: jsonl, path: '" +
                                    dir.File("e.jsonl") + "'}}\ncheckpoint: {type: file, path: '" +
                                    dir.File("cp.json") + "'}\nserver: {listen: '[::1]:0'}\n",
                                "t.yaml");
  ASSERT_TRUE(root.ok());
  auto c = LoadConfig(*root, registry_);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  Status s = CheckConfig(**c);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(RenderExampleConfig, IsValidYamlAndNamesEveryKind) {
  Registry r;
  ASSERT_TRUE(RegisterBuiltins(r).ok());
  std::string ex = RenderExampleConfig(r);
  EXPECT_TRUE(config::ParseYaml(ex, "example").ok());
  for (const auto& k : r.sources.Kinds()) EXPECT_NE(ex.find("type: " + k), std::string::npos);
  for (const auto& k : r.sinks.Kinds()) EXPECT_NE(ex.find("type: " + k), std::string::npos);
}

TEST(AppServer, RecordHistoryRouteServesTheSqlStore) {
  Registry r;
  ASSERT_TRUE(RegisterBuiltins(r).ok());
  testing::TempDir dir;
  auto yaml = config::ParseYaml(
      "data_dir: " + dir.File("data") +
          "\nsources: {gen: {type: synthetic, rate: 200, keys: 2}}\n"
          "sinks: {store: {type: sql, dsn: 'sqlite://" +
          dir.File("events.db") + "', batch: {interval: 20ms}}}\nserver: {listen: '127.0.0.1:0'}\n",
      "t.yaml");
  ASSERT_TRUE(yaml.ok());
  auto cfg = LoadConfig(*yaml, r);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  auto engine = BuildEngine(**cfg);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  auto server = StartServer(**cfg, **engine, "test");
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  Status run_status;
  std::thread run([&] { run_status = (*engine)->Run(); });
  httplib::Client c("127.0.0.1", (*server)->port());
  nlohmann::json rows;
  bool got = testing::WaitUntil([&] {
    auto res = c.Get("/api/v1/records/gen-k1/events?limit=3");
    if (!res || res->status != 200) return false;
    rows = nlohmann::json::parse(res->body);
    return rows.size() == 3;
  });
  if (!got) {
    (*engine)->RequestStop();
    run.join();
    FAIL() << "no history rows; engine: " << run_status.ToString();
  }
  EXPECT_EQ(rows[0]["object_type"], "SyntheticKey");
  EXPECT_GE(rows[0]["ts_ms"].get<int64_t>(), rows[1]["ts_ms"].get<int64_t>()) << "newest first";
  auto none = c.Get("/api/v1/records/nobody/events");
  ASSERT_TRUE(none);
  EXPECT_EQ(nlohmann::json::parse(none->body).size(), 0u);
  (*engine)->RequestStop();
  run.join();
  EXPECT_TRUE(run_status.ok()) << run_status.ToString();
  (*server)->Stop();
}

TEST(RegisterBuiltins, RegistersEveryListedKindWithItsDoctorChecks) {
  Registry r;
  ASSERT_TRUE(RegisterBuiltins(r).ok());
  EXPECT_EQ(r.sources.Kinds(), (std::vector<std::string>{"pubsub", "synthetic"}));
  EXPECT_EQ(r.sinks.Kinds(), (std::vector<std::string>{"jsonl", "loki", "sql", "stdout"}));
  EXPECT_EQ(r.checkpoint_stores.Kinds(), (std::vector<std::string>{"file", "sqlite"}));
  // The doctor checks hang off the factories (doctor.cc names no kind).
  EXPECT_TRUE(r.sources.Find("pubsub")->doctor);
  EXPECT_TRUE(r.sinks.Find("loki")->doctor);
  EXPECT_FALSE(r.sinks.Find("jsonl")->doctor);
}

}  // namespace
}  // namespace forcepipe::app
