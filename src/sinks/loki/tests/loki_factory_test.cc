#include <gtest/gtest.h>

#include "config/loader.h"
#include "config/node.h"
#include "sinks/loki/loki_sink.h"
#include "sinks/loki/tests/loki_receiver.h"

namespace forcepipe {
namespace {

struct FakeEnv : config::Environment {
  std::map<std::string, std::string> files;
  std::optional<std::string> Get(const std::string&) const override { return std::nullopt; }
  Result<std::string> ReadFile(const std::string& p) const override {
    auto it = files.find(p);
    if (it == files.end()) return Status::NotFound("cannot read file " + p);
    return it->second;
  }
};

Result<std::unique_ptr<Sink>> Build(const std::string& yaml, const FakeEnv& env = {}) {
  SinkFactory f = LokiSinkFactory();
  FP_ASSIGN_OR_RETURN(YAML::Node doc, config::ParseYaml(yaml, "test.yaml"));
  FP_ASSIGN_OR_RETURN(config::Node node, config::Validate(doc, *f.options, "sinks.loki", env));
  FactoryContext ctx;
  ctx.name = "loki";
  return f.create(node, ctx);
}

TEST(LokiFactory, TableHasNoEngineKeysAndRendersExample) {
  SinkFactory f = LokiSinkFactory();
  EXPECT_EQ(f.kind, "loki");
  for (const auto& o : *f.options) {
    EXPECT_NE(o.key, "type");
    EXPECT_NE(o.key, "batch");
    EXPECT_NE(o.key, "max_in_flight");
    EXPECT_NE(o.key, "retry");
  }
  std::string example = config::RenderExample(*f.options, 2);
  EXPECT_NE(example.find("max_line_bytes"), std::string::npos);
}

TEST(LokiFactory, BuildsAWorkingSinkWithPasswordFile) {
  loki_test::LokiReceiver receiver;
  ASSERT_TRUE(receiver.Start().ok());
  FakeEnv env;
  env.files["/secrets/pw"] = "pw-from-file\n";
  auto sink = Build("url: " + receiver.url() +
                        "\ntenant: t1\nusername: u\npassword_file: /secrets/pw\n"
                        "labels: {environment: prod}\nmax_line_bytes: 1KiB\n",
                    env);
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  EXPECT_EQ((*sink)->kind(), "loki");
  Batch b;
  Entry e;
  e.line = "hello";
  e.labels = std::make_shared<const LabelSet>(LabelSet{{"source", "s"}});
  b.entries.push_back(e);
  ASSERT_EQ((*sink)->Push(b).kind, PushOutcome::Kind::kOk);
  auto reqs = receiver.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].tenant, "t1");
  // base64("u:pw-from-file"): the config layer trims the file's newline.
  EXPECT_EQ(reqs[0].authorization, "Basic dTpwdy1mcm9tLWZpbGU=");
  EXPECT_EQ(receiver.stored()[0].label_map.at("environment"), "prod");
}

TEST(LokiFactory, RejectsInvalidCombinations) {
  EXPECT_FALSE(Build("url: http://x\ncompression: gzip\n").ok());
  EXPECT_TRUE(Build("url: http://x\nencoding: json\ncompression: gzip\n").ok());
  auto r = Build("url: http://x\nlabels: {source: x}\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("sinks.loki"), std::string::npos);
  EXPECT_FALSE(Build("url: http://x\nbogus: 1\n").ok());
  EXPECT_FALSE(Build("tenant: x\n").ok());  // url required
}

}  // namespace
}  // namespace forcepipe
