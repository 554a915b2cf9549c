// `forcepipe config check` runs every validation `forcepipe run` does (without
// connecting to anything), and config errors exit 2 from both (issue #12 M3,
// C1, S2).

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "e2e_util.h"

namespace forcepipe::e2e {
namespace {

struct BadConfig {
  std::string name;
  std::string yaml;
  std::string want;  // in stderr
  bool also_run;     // `run` fails at startup too (it must not start a pipeline)
};

class ConfigCheck : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& yaml) {
    std::string f = dir_.File(name + ".yaml");
    testing::WriteFile(f, yaml);
    return f;
  }
  testing::TempDir dir_;
};

TEST_F(ConfigCheck, ConfigErrorsThatRunRejectsExitTwoFromCheckAndRun) {
  const std::string data = "data_dir: '" + dir_.File("data") + "'\n";
  const std::string gen = data + "sources: {gen: {type: synthetic}}\n";
  const std::string out = "sinks: {out: {type: stdout}}\ncheckpoint: {type: file, path: '" +
                          dir_.File("cp.json") + "'}\n";
  testing::WriteFile(dir_.File("empty-token"), "");
  std::filesystem::create_directories(dir_.File("a-dir"));
  std::vector<BadConfig> cases = {
      {"jsonl-without-checkpoint",
       gen + "sinks: {out: {type: jsonl, path: '" + dir_.File("e.jsonl") + "'}}\n",
       "checkpoint: required", false},
      {"unknown-dsn-scheme", gen + "sinks: {db: {type: sql, dsn: 'oracle://h/db'}}\n",
       "sinks.db.dsn", false},
      {"bad-retention",
       gen + "sinks: {db: {type: sql, dsn: 'sqlite://" + dir_.File("x.db") +
           "', retention: {'*': forever}}}\n",
       "sinks.db.retention", false},
      {"topic-without-slash",
       data +
           "sources: {sf: {type: pubsub, endpoint: '127.0.0.1:1', topics: [AccountChangeEvent], "
           "auth: {flow: static, access_token: t, instance_url: 'http://127.0.0.1:1', org_id: "
           "00D000000000001AAA}}}\n" +
           out,
       "sources.sf.topics", false},
      {"secret-file-is-a-directory",
       data +
           "sources: {sf: {type: pubsub, endpoint: '127.0.0.1:1', topics: [/data/ChangeEvents], "
           "auth: {flow: static, access_token_file: '" +
           dir_.File("a-dir") +
           "', instance_url: 'http://127.0.0.1:1', org_id: 00D000000000001AAA}}}\n" + out,
       "sources.sf.auth.access_token_file: ", false},
      {"secret-file-is-dev-zero",
       data +
           "sources: {sf: {type: pubsub, endpoint: '127.0.0.1:1', topics: [/data/ChangeEvents], "
           "auth: {flow: client_credentials, client_id: x, client_secret_file: /dev/zero}}}\n" +
           out,
       "sources.sf.auth.client_secret_file: ", false},
      {"empty-auth-token", gen + out + "server: {auth_token: ''}\n", "server.auth_token: ", false},
      {"empty-auth-token-file",
       gen + out + "server: {auth_token_file: '" + dir_.File("empty-token") + "'}\n",
       "server.auth_token_file: ", false},
      {"auth-token-file-is-a-directory",
       gen + out + "server: {auth_token_file: '" + dir_.File("a-dir") + "'}\n",
       "server.auth_token_file: ", false},
      {"listen-without-port", gen + out + "server: {listen: localhost}\n", "server.listen", true},
      {"listen-bad-address", gen + out + "server: {listen: '999.1.1.1:99999'}\n", "server.listen",
       true},
      {"empty-data-dir", "data_dir: ''\nsources: {gen: {type: synthetic}}\n" + out, "data_dir",
       true},
  };
  for (const auto& c : cases) {
    std::string f = Write(c.name, c.yaml);
    auto check =
        RunToEnd(dir_, {testing::ForcepipeBinary(), "config", "check", "-c", f}, c.name + "-check");
    EXPECT_EQ(check.exit_code, 2) << c.name << ": " << check.out << check.err;
    EXPECT_NE(check.err.find(c.want), std::string::npos) << c.name << ": " << check.err;
    if (c.also_run) {
      auto run = RunToEnd(dir_, {testing::ForcepipeBinary(), "run", "-c", f}, c.name + "-run",
                          std::chrono::seconds(30));
      EXPECT_EQ(run.exit_code, 2) << c.name << ": " << run.err;
      EXPECT_NE(run.err.find(c.want), std::string::npos) << c.name << ": " << run.err;
    }
  }
  // `config check` created nothing.
  EXPECT_FALSE(std::filesystem::exists(dir_.File("data")));
  EXPECT_FALSE(std::filesystem::exists(dir_.File("x.db")));
  EXPECT_FALSE(std::filesystem::exists(dir_.File("cp.json")));
}

// Issue #12 C1: `-c /dev/zero` used to abort with std::bad_alloc (exit 134).
TEST_F(ConfigCheck, ConfigFileThatIsADeviceOrDirectoryExitsTwo) {
  for (const std::string& f : {std::string("/dev/zero"), dir_.path()}) {
    for (const char* cmd : {"check", "run"}) {
      std::vector<std::string> argv = {testing::ForcepipeBinary()};
      if (std::string(cmd) == "check") argv.push_back("config");
      argv.insert(argv.end(), {cmd, "-c", f});
      auto r = RunToEnd(dir_, argv, std::string(cmd) + "-device");
      EXPECT_EQ(r.exit_code, 2) << f << " " << cmd << ": " << r.err;
      EXPECT_NE(r.err.find(f), std::string::npos) << r.err;
    }
  }
}

TEST_F(ConfigCheck, ValidConfigPassesWithoutCreatingAnything) {
  std::string f = Write("ok", "data_dir: '" + dir_.File("data") +
                                  "'\nsources: {gen: {type: synthetic}}\n"
                                  "sinks: {out: {type: jsonl, path: '" +
                                  dir_.File("e.jsonl") + "'}}\ncheckpoint: {type: sqlite, path: '" +
                                  dir_.File("cp.db") + "'}\n");
  auto r = RunToEnd(dir_, {testing::ForcepipeBinary(), "config", "check", "-c", f}, "ok");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.File("data")));
  EXPECT_FALSE(std::filesystem::exists(dir_.File("cp.db")));
  EXPECT_FALSE(std::filesystem::exists(dir_.File("e.jsonl")));
}

}  // namespace
}  // namespace forcepipe::e2e
