#include "config/node.h"

#include <gtest/gtest.h>

#include "config/loader.h"

namespace forcepipe::config {
namespace {

using namespace std::chrono_literals;

struct FakeEnv : Environment {
  std::map<std::string, std::string> vars;
  std::map<std::string, std::string> files;
  std::optional<std::string> Get(const std::string& n) const override {
    auto it = vars.find(n);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  }
  Result<std::string> ReadFile(const std::string& p) const override {
    auto it = files.find(p);
    if (it == files.end()) return Status::NotFound("cannot read file " + p);
    return it->second;
  }
};

const OptionTable kBatch = {
    {.key = "max_entries",
     .type = OptionType::kInt,
     .default_value = "1000",
     .description = "entries",
     .min = 1,
     .max = 1000000},
    {.key = "max_bytes",
     .type = OptionType::kSize,
     .default_value = "1MiB",
     .description = "bytes",
     .min = 1024},
    {.key = "interval",
     .type = OptionType::kDuration,
     .default_value = "1s",
     .description = "flush",
     .min = 0.001,
     .max = 3600},
};
const OptionTable kSink = {
    {.key = "url", .type = OptionType::kString, .description = "where", .required = true},
    {.key = "encoding",
     .type = OptionType::kString,
     .default_value = "protobuf",
     .description = "enc",
     .choices = {"protobuf", "json"}},
    {.key = "password", .type = OptionType::kSecret, .description = "pw"},
    {.key = "verify", .type = OptionType::kBool, .default_value = "true", .description = "tls"},
    {.key = "ratio",
     .type = OptionType::kDouble,
     .default_value = "0.5",
     .description = "r",
     .min = 0,
     .max = 1},
    {.key = "tags", .type = OptionType::kStringList, .description = "t"},
    {.key = "headers", .type = OptionType::kStringMap, .description = "h"},
    {.key = "batch", .type = OptionType::kSection, .description = "batching", .section = &kBatch},
};

Result<Node> V(const std::string& yaml, const FakeEnv& env = FakeEnv()) {
  auto y = ParseYaml(yaml, "test.yaml");
  if (!y.ok()) return y.status();
  return Validate(*y, kSink, "sinks.loki", env);
}

TEST(Validate, FillsDefaultsAndReadsTypes) {
  auto n = V("url: http://x\nbatch: {max_bytes: 2MiB}\ntags: [a, b]\nheaders: {X-A: '1'}\n");
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(n->GetString("url"), "http://x");
  EXPECT_EQ(n->GetString("encoding"), "protobuf");
  EXPECT_TRUE(n->GetBool("verify"));
  EXPECT_DOUBLE_EQ(n->GetDouble("ratio"), 0.5);
  EXPECT_FALSE(n->Has("password"));
  EXPECT_EQ(n->GetSection("batch").GetSize("max_bytes"), 2u * 1024 * 1024);
  EXPECT_EQ(n->GetSection("batch").GetInt("max_entries"), 1000);
  EXPECT_EQ(n->GetSection("batch").GetDuration("interval"), 1s);
  EXPECT_TRUE(n->GetSection("batch").IsSet("max_bytes"));
  EXPECT_FALSE(n->GetSection("batch").IsSet("interval"));
  EXPECT_EQ(n->GetStringList("tags"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(n->GetStringMap("headers").at("X-A"), "1");
}

TEST(Validate, WrongSizeNamesPathAndValue) {
  auto n = V("url: u\nbatch:\n  max_bytes: lots\n");
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().message(),
            "sinks.loki.batch.max_bytes: expected a size like 1MiB, got \"lots\"");
}

TEST(Validate, UnknownKeyNamesPathAndLine) {
  auto n = V("url: u\nbatch:\n  max_bites: 1\n");
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.status().message().find("sinks.loki.batch.max_bites: unknown key (line 3)"),
            std::string::npos)
      << n.status().message();
}

TEST(Validate, WrongTypesNamePath) {
  auto a = V("url: u\nverify: maybe\n");
  EXPECT_EQ(a.status().message(), "sinks.loki.verify: expected true or false, got \"maybe\"");
  auto b = V("url: u\nbatch: {max_entries: ten}\n");
  EXPECT_EQ(b.status().message(), "sinks.loki.batch.max_entries: expected an integer, got \"ten\"");
  auto c = V("url: [1]\n");
  EXPECT_NE(c.status().message().find("sinks.loki.url: expected a string, got a list"),
            std::string::npos);
  auto d = V("url: u\nbatch: {interval: soon}\n");
  EXPECT_EQ(d.status().message(),
            "sinks.loki.batch.interval: expected a duration like 30s, 250ms or 5m, got \"soon\"");
  auto e = V("url: u\nencoding: xml\n");
  EXPECT_EQ(e.status().message(),
            "sinks.loki.encoding: expected one of protobuf, json, got \"xml\"");
  auto f = V("url: u\ntags: x\n");
  EXPECT_NE(f.status().message().find("sinks.loki.tags: expected a list of strings"),
            std::string::npos);
  auto g = V("url: u\nbatch: 3\n");
  EXPECT_NE(g.status().message().find("sinks.loki.batch: expected a mapping, got \"3\""),
            std::string::npos);
}

TEST(Validate, OutOfRangeNamesPathAndBounds) {
  auto a = V("url: u\nbatch: {max_entries: 0}\n");
  EXPECT_EQ(a.status().message(),
            "sinks.loki.batch.max_entries: expected a integer between 1 and 1e+06, got \"0\"");
  auto b = V("url: u\nratio: 2\n");
  EXPECT_NE(b.status().message().find("sinks.loki.ratio: expected a number between 0 and 1"),
            std::string::npos);
  auto c = V("url: u\nbatch: {max_bytes: 10}\n");
  EXPECT_NE(
      c.status().message().find("sinks.loki.batch.max_bytes: expected a size at least 1024 bytes"),
      std::string::npos);
  auto d = V("url: u\nbatch: {interval: 2h}\n");
  EXPECT_NE(d.status().message().find("sinks.loki.batch.interval: expected a duration between"),
            std::string::npos);
}

TEST(Validate, MissingRequiredNamesPath) {
  auto n = V("encoding: json\n");
  EXPECT_EQ(n.status().message(), "sinks.loki.url: required string is missing");
}

TEST(Validate, InterpolatesEnvironment) {
  FakeEnv env;
  env.vars["HOST"] = "loki.local";
  auto n = V("url: http://${HOST}:${PORT:-3100}/x\n", env);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(n->GetString("url"), "http://loki.local:3100/x");
}

TEST(Validate, UnsetVariableNamesPathAndVariable) {
  auto n = V("url: http://${NOPE}/x\n");
  EXPECT_EQ(n.status().message(), "sinks.loki.url: environment variable NOPE is not set");
}

TEST(Validate, SecretFromFileTrimsNewline) {
  FakeEnv env;
  env.files["/run/pw"] = "hunter2\n";
  auto n = V("url: u\npassword_file: /run/pw\n", env);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(n->GetString("password"), "hunter2");
  auto both = V("url: u\npassword: a\npassword_file: /run/pw\n", env);
  EXPECT_EQ(both.status().message(),
            "sinks.loki.password: set either password or password_file, not both");
  auto missing = V("url: u\npassword_file: /nope\n", env);
  EXPECT_NE(missing.status().message().find("sinks.loki.password_file: cannot read file /nope"),
            std::string::npos);
  // The secret itself never appears in an error.
  auto bad = V("url: u\npassword: hunter2\nverify: 3\n", env);
  EXPECT_EQ(bad.status().message().find("hunter2"), std::string::npos);
}

// Issue #12 S1: interpolation errors name the path and what is wrong, never the value.
TEST(Validate, InterpolationErrorsNeverQuoteSecretValues) {
  for (const char* value : {"X-${oops", "hunter2-${bad name}-x", "postgresql://u:hunter2@h/${db"}) {
    auto n = V(std::string("url: u\npassword: \"") + value + "\"\n");
    ASSERT_FALSE(n.ok()) << value;
    const std::string& m = n.status().message();
    EXPECT_EQ(m.rfind("sinks.loki.password: ", 0), 0u) << m;
    EXPECT_EQ(m.find("hunter2"), std::string::npos) << m;
    EXPECT_EQ(m.find("oops"), std::string::npos) << m;
    EXPECT_EQ(m.find("bad name"), std::string::npos) << m;
    EXPECT_EQ(m.find("X-"), std::string::npos) << m;
  }
}

TEST(Interpolate, ErrorsSayWhatIsWrongWithoutQuotingTheText) {
  FakeEnv env;
  auto a = Interpolate("abc${oops", env);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().message().find("oops"), std::string::npos) << a.status().message();
  EXPECT_NE(a.status().message().find("unterminated ${"), std::string::npos);
  auto b = Interpolate("abc${x y}", env);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().message().find("x y"), std::string::npos) << b.status().message();
  EXPECT_NE(b.status().message().find("bad variable name"), std::string::npos);
}

// Issue #12 S2: a secret that is set but empty is an error, not "no secret".
TEST(Validate, EmptySecretIsAnErrorNamingThePath) {
  auto a = V("url: u\npassword: \"\"\n");
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("sinks.loki.password: "), std::string::npos)
      << a.status().message();
  EXPECT_NE(a.status().message().find("empty"), std::string::npos) << a.status().message();
  FakeEnv env;
  env.files["/run/empty"] = "\n";
  auto b = V("url: u\npassword_file: /run/empty\n", env);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("sinks.loki.password_file: "), std::string::npos)
      << b.status().message();
  EXPECT_NE(b.status().message().find("/run/empty"), std::string::npos);
  EXPECT_NE(b.status().message().find("empty"), std::string::npos);
  env.vars["EMPTY"] = "";
  auto c = V("url: u\npassword: ${EMPTY}\n", env);
  EXPECT_FALSE(c.ok());
}

// Issue #12 M4: a huge value is cut short in the message.
TEST(Validate, HugeValueIsTruncatedInTheError) {
  std::string huge(5 << 20, 'x');
  auto n = V("url: u\nverify: " + huge + "\n");
  ASSERT_FALSE(n.ok());
  EXPECT_LT(n.status().message().size(), 300u) << n.status().message().size();
  EXPECT_NE(n.status().message().find("sinks.loki.verify: expected true or false, got \"xxx"),
            std::string::npos);
}

// Issue #12 M4: control characters in keys and values cannot forge a log line.
TEST(Validate, ControlCharactersInKeysAndValuesAreEscaped) {
  auto a = V("url: u\n\"bad\\nERROR forged\\u001b[31m\": 1\n");
  ASSERT_FALSE(a.ok());
  const std::string& m = a.status().message();
  EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  EXPECT_EQ(m.find('\x1b'), std::string::npos) << m;
  EXPECT_NE(m.find("sinks.loki.bad\\nERROR forged\\x1b[31m: unknown key"), std::string::npos) << m;
  auto b = V("url: u\nverify: \"no\\rERROR\\u0007\"\n");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().message().find('\r'), std::string::npos);
  EXPECT_EQ(b.status().message().find('\a'), std::string::npos);
  EXPECT_NE(b.status().message().find("\\rERROR\\x07"), std::string::npos) << b.status().message();
}

// Issue #12 M4: the allowed keys listed are those of the section with the unknown key.
TEST(Validate, NestedUnknownKeyListsTheSectionsOwnKeys) {
  auto n = V("url: u\nbatch: {max_bites: 1}\n");
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.status().message().find("expected one of: max_entries, max_bytes, interval"),
            std::string::npos)
      << n.status().message();
  EXPECT_EQ(n.status().message().find("encoding"), std::string::npos) << n.status().message();
}

TEST(ParseDuration, Forms) {
  EXPECT_EQ(*ParseDuration("250ms"), 250ms);
  EXPECT_EQ(*ParseDuration("30s"), 30s);
  EXPECT_EQ(*ParseDuration("5m"), 5min);
  EXPECT_EQ(*ParseDuration("1h"), 1h);
  EXPECT_EQ(*ParseDuration("2h30m"), 150min);
  EXPECT_EQ(*ParseDuration("1.5s"), 1500ms);
  EXPECT_EQ(*ParseDuration("0"), 0s);
  EXPECT_FALSE(ParseDuration("").ok());
  EXPECT_FALSE(ParseDuration("30").ok());
  EXPECT_FALSE(ParseDuration("5 parsecs").ok());
  EXPECT_FALSE(ParseDuration("s").ok());
}

TEST(ParseSize, Forms) {
  EXPECT_EQ(*ParseSize("512KiB"), 512u * 1024);
  EXPECT_EQ(*ParseSize("256MiB"), 256u * 1024 * 1024);
  EXPECT_EQ(*ParseSize("1GB"), 1000000000u);
  EXPECT_EQ(*ParseSize("4096"), 4096u);
  EXPECT_FALSE(ParseSize("lots").ok());
  EXPECT_FALSE(ParseSize("1 furlong").ok());
  EXPECT_FALSE(ParseSize("").ok());
}

TEST(Interpolate, Forms) {
  FakeEnv env;
  env.vars["A"] = "1";
  env.vars["EMPTY"] = "";
  EXPECT_EQ(*Interpolate("${A}-${B:-x}", env), "1-x");
  EXPECT_EQ(*Interpolate("${EMPTY:-d}", env), "d");
  EXPECT_EQ(*Interpolate("cost $$5", env), "cost $5");
  EXPECT_EQ(*Interpolate("plain $ sign", env), "plain $ sign");
  EXPECT_FALSE(Interpolate("${A", env).ok());
  EXPECT_FALSE(Interpolate("${}", env).ok());
}

TEST(RenderExample, ListsEveryKeyWithDescription) {
  std::string out = RenderExample(kSink, 2);
  for (const auto& o : kSink) EXPECT_NE(out.find(o.key), std::string::npos) << o.key;
  EXPECT_NE(out.find("max_bytes: 1MiB"), std::string::npos);
  EXPECT_NE(out.find("password_file"), std::string::npos);
  // The example parses back as YAML.
  EXPECT_TRUE(ParseYaml(out, "example").ok());
}

}  // namespace
}  // namespace forcepipe::config
