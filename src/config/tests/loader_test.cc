#include "config/loader.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "config/node.h"

namespace forcepipe::config {
namespace {

// A fresh directory, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string t = (std::filesystem::temp_directory_path() / "fp-loader-XXXXXX").string();
    path_ = mkdtemp(t.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string Write(const std::string& name, const std::string& content) const {
    std::string p = path_ + "/" + name;
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

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

// Issue #12 L3: yaml-cpp keeps both entries of a duplicate key (and operator[]
// returns the first); the loader refuses them at every level.
TEST(ParseYaml, DuplicateKeyIsAnErrorNamingKeyPathAndBothLines) {
  auto top = ParseYaml("a: 1\nb: 2\na: 3\n", "cfg.yaml");
  ASSERT_FALSE(top.ok());
  EXPECT_EQ(top.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(top.status().message(), "cfg.yaml:3: a: duplicate key \"a\" (first at line 1)");

  auto nested = ParseYaml(
      "sources:\n  gen:\n    type: synthetic\n  other: {type: synthetic}\n  gen:\n"
      "    type: synthetic\n",
      "cfg.yaml");
  ASSERT_FALSE(nested.ok());
  EXPECT_EQ(nested.status().message(),
            "cfg.yaml:5: sources.gen: duplicate key \"gen\" (first at line 2)");

  auto in_list = ParseYaml("l:\n  - {x: 1, y: 2, x: 3}\n", "cfg.yaml");
  ASSERT_FALSE(in_list.ok());
  EXPECT_EQ(in_list.status().message(),
            "cfg.yaml:2: l[0].x: duplicate key \"x\" (first at line 2)");

  EXPECT_TRUE(ParseYaml("a: {x: 1}\nb: {x: 1}\n", "cfg.yaml").ok());
}

// Issue #12 C1: reading /dev/zero used to grow a string until std::bad_alloc.
TEST(LoadYamlFile, DeviceOrDirectoryIsAClearError) {
  auto zero = LoadYamlFile("/dev/zero");
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.status().message().find("/dev/zero"), std::string::npos)
      << zero.status().message();
  TempDir dir;
  auto d = LoadYamlFile(dir.path());
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find(dir.path() + ": is a directory"), std::string::npos)
      << d.status().message();
}

TEST(LoadYamlFile, FileOverTheCapIsAnErrorNamingFileAndCap) {
  TempDir dir;
  std::string big = dir.Write("big.yaml", "a: " + std::string(4 << 20, 'x') + "\n");
  auto r = LoadYamlFile(big);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(big), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("larger than the 4 MiB limit"), std::string::npos)
      << r.status().message();
  EXPECT_LT(r.status().message().size(), 300u);
}

// Issue #12 C1 and S2: `<key>_file` secrets are read with a cap and must be
// regular files.
TEST(EnvironmentReadFile, SecretFileMustBeABoundedRegularFile) {
  const Environment& env = Environment::Process();
  auto zero = env.ReadFile("/dev/zero");
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.status().message().find("/dev/zero: not a regular file"), std::string::npos)
      << zero.status().message();
  TempDir dir;
  auto d = env.ReadFile(dir.path());
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find(dir.path() + ": is a directory"), std::string::npos)
      << d.status().message();
  std::string big = dir.Write("big", std::string((64 << 10) + 1, 'k'));
  auto b = env.ReadFile(big);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find(big + ": larger than the 64 KiB limit"), std::string::npos)
      << b.status().message();
  EXPECT_EQ(b.status().message().find("kkk"), std::string::npos);
  std::string ok = dir.Write("ok", "s3cret\n");
  auto o = env.ReadFile(ok);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(*o, "s3cret\n");
}

}  // namespace
}  // namespace forcepipe::config
