// `forcepipe state set` writes only positions a configured source can read
// back: an unknown key or an unparseable value is refused (exit 2, naming it)
// and nothing is written.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <sstream>

#include "testing/fakes.h"
#include "testing/process.h"

namespace forcepipe {
namespace {

using testing::Child;
using testing::ForcepipeBinary;
using testing::ReadFile;
using testing::TempDir;

struct Ran {
  int code = -1;
  std::string out, err;
};

Ran Forcepipe(const TempDir& dir, std::vector<std::string> args) {
  static int n = 0;
  const std::string out = dir.File("cmd" + std::to_string(++n) + ".out");
  const std::string err = dir.File("cmd" + std::to_string(n) + ".err");
  args.insert(args.begin(), ForcepipeBinary());
  Child c = Child::Spawn(args, out, err);
  int st = c.Wait(std::chrono::seconds(30));
  Ran r;
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r.out = ReadFile(out);
  r.err = ReadFile(err);
  return r;
}

std::string Config(const TempDir& dir) {
  std::ostringstream c;
  c << "data_dir: " << dir.File("data") << "\n"
    << "checkpoint:\n  type: file\n  path: " << dir.File("checkpoints.json") << "\n"
    << "sources:\n  gen:\n    type: synthetic\n    keys: 2\n"
    << "sinks:\n  out:\n    type: jsonl\n    path: " << dir.File("events.jsonl") << "\n";
  std::string path = dir.File("forcepipe.yaml");
  testing::WriteFile(path, c.str());
  return path;
}

TEST(StateCommand, SetRefusesAKeyNoSourceReadsAndWritesNothing) {
  TempDir dir;
  const std::string cfg = Config(dir);
  for (const char* key : {"synthetic:gen:k2", "synthetic:other:k0", "nonsense"}) {
    Ran r = Forcepipe(dir, {"state", "set", "-c", cfg, key, "5"});
    EXPECT_EQ(r.code, 2) << key << ": " << r.err;
    EXPECT_NE(r.err.find(key), std::string::npos) << r.err;
  }
  Ran show = Forcepipe(dir, {"state", "show", "-c", cfg});
  EXPECT_EQ(show.out, "") << "a refused state set wrote something";
}

TEST(StateCommand, SetRefusesAValueTheSourceCannotParse) {
  TempDir dir;
  const std::string cfg = Config(dir);
  for (const char* value : {"abc", "", "-1", "99999999999999999999999", " 7"}) {
    Ran r = Forcepipe(dir, {"state", "set", "-c", cfg, "synthetic:gen:k0", value});
    EXPECT_EQ(r.code, 2) << "\"" << value << "\": " << r.err;
    EXPECT_NE(r.err.find("synthetic:gen:k0"), std::string::npos) << r.err;
  }
  Ran show = Forcepipe(dir, {"state", "show", "-c", cfg});
  EXPECT_EQ(show.out, "");
  Ran ok = Forcepipe(dir, {"state", "set", "-c", cfg, "synthetic:gen:k1", "41"});
  EXPECT_EQ(ok.code, 0) << ok.err;
  show = Forcepipe(dir, {"state", "show", "-c", cfg});
  EXPECT_EQ(show.out, "synthetic:gen:k1\t41\n");
}

}  // namespace
}  // namespace forcepipe
