#include "config/loader.h"

#include <gtest/gtest.h>

namespace forcepipe::config {
namespace {

TEST(ParseYaml, MalformedNamesFileLineColumn) {
  auto r = ParseYaml("a: [1, 2\nb: 3\n", "cfg.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind("cfg.yaml:", 0), 0u) << r.status().message();
  EXPECT_NE(r.status().message().find("invalid YAML"), std::string::npos);
}

TEST(LoadYamlFile, MissingFileNamesIt) {
  auto r = LoadYamlFile("/nonexistent/forcepipe.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("/nonexistent/forcepipe.yaml"), std::string::npos);
}

}  // namespace
}  // namespace forcepipe::config
