// The /status page as a browser renders it: `forcepipe demo` (embedded
// emulator -> Pub/Sub -> SQLite) serves the page; headless Chromium loads it
// twice, the second time after /status.json showed more events, and the
// rendered DOM must list the one source ("salesforce") with a count that rose.
// A screenshot is kept as an artefact ($FORCEPIPE_ARTIFACTS_DIR/status-page.png).
//
// Skips when no Chromium is installed (Debian package `chromium`; or $CHROMIUM).

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <regex>

#include "e2e_util.h"

namespace forcepipe {
namespace {

using testing::Child;
using testing::ForcepipeBinary;
using testing::ReadFile;
using testing::TempDir;
using testing::WaitUntil;

std::string FindChromium() {
  if (const char* c = std::getenv("CHROMIUM"); c && *c) return c;
  for (const char* p :
       {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"}) {
    if (std::filesystem::exists(p)) return p;
  }
  return "";
}

struct Row {
  std::string name;
  double events = -1;
};

// The rows the page's script rendered into the Streams table (the script's own
// template text also contains `data-source`, but with a `${...}` placeholder).
std::vector<Row> RenderedSources(const std::string& dom) {
  static const std::regex row(R"re(<tr data-source="([^"$]+)">(.*?)</tr>)re");
  static const std::regex events(R"re(class="num events">([0-9][0-9,.\s]*)<)re");
  std::vector<Row> out;
  for (auto it = std::sregex_iterator(dom.begin(), dom.end(), row); it != std::sregex_iterator();
       ++it) {
    Row r;
    r.name = (*it)[1].str();
    std::string cells = (*it)[2].str();
    std::smatch m;
    if (std::regex_search(cells, m, events)) {
      std::string digits;
      for (char ch : m[1].str()) {
        if (std::isdigit(static_cast<unsigned char>(ch))) digits.push_back(ch);
      }
      if (!digits.empty()) r.events = std::stod(digits);
    }
    out.push_back(r);
  }
  return out;
}

class StatusPageBrowser : public ::testing::Test {
 protected:
  // Runs headless Chromium on `url` with `mode_args`; returns its stdout.
  std::string Chromium(const std::string& url, const std::vector<std::string>& mode_args,
                       const std::string& tag) {
    std::vector<std::string> argv = {
        chromium_, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--user-data-dir=" + dir_.File("chromium-profile-" + tag),
        // The page fetches /status.json once on load: let it finish.
        "--virtual-time-budget=5000"};
    argv.insert(argv.end(), mode_args.begin(), mode_args.end());
    argv.push_back(url);
    auto r = e2e::RunToEnd(dir_, argv, "chromium-" + tag, std::chrono::seconds(90));
    EXPECT_EQ(r.exit_code, 0) << "chromium " << tag << " failed:\n" << r.err;
    return r.out;
  }

  double JsonEvents(const std::string& base) {
    auto r = e2e::HttpGet(base + "/status.json");
    if (r.status != 200) return -1;
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (j.is_discarded() || !j.contains("sources") || j["sources"].empty()) return -1;
    return j["sources"][0].value("events", -1.0);
  }

  TempDir dir_;
  std::string chromium_ = FindChromium();
};

TEST_F(StatusPageBrowser, RendersTheSourceAndItsRisingEventCount) {
  ASSERT_FALSE(chromium_.empty())
      << "no chromium found: scripts/install-deps.sh installs Debian's chromium";
  std::string err = dir_.File("demo.err");
  Child demo =
      Child::Spawn({ForcepipeBinary(), "--log-format", "json", "demo", "--listen", "127.0.0.1:0",
                    "--dir", dir_.File("demo"), "--duration", "120s", "--rate", "300"},
                   dir_.File("demo.out"), err);
  std::string base;
  ASSERT_TRUE(WaitUntil([&] { return !(base = e2e::StatusBaseUrl(ReadFile(err))).empty(); },
                        std::chrono::seconds(60)))
      << "the demo announced no status URL:\n"
      << ReadFile(err);
  // Something has arrived before the first render.
  ASSERT_TRUE(WaitUntil([&] { return JsonEvents(base) > 0; }, std::chrono::seconds(60)))
      << ReadFile(err);

  std::string dom1 = Chromium(base + "/status", {"--dump-dom"}, "dom1");
  auto rows1 = RenderedSources(dom1);
  ASSERT_EQ(rows1.size(), 1u) << "expected one rendered source row; DOM:\n" << dom1;
  EXPECT_EQ(rows1[0].name, "salesforce");
  ASSERT_GT(rows1[0].events, 0) << "no event count rendered; DOM:\n" << dom1;
  EXPECT_NE(dom1.find(R"(class="pill ok">ready<)"), std::string::npos)
      << "readiness pill not 'ready':\n"
      << dom1;

  // Wait until the server has more than the first render showed, then render again.
  ASSERT_TRUE(
      WaitUntil([&] { return JsonEvents(base) > rows1[0].events; }, std::chrono::seconds(60)));
  std::string dom2 = Chromium(base + "/status", {"--dump-dom"}, "dom2");
  auto rows2 = RenderedSources(dom2);
  ASSERT_EQ(rows2.size(), 1u) << dom2;
  EXPECT_EQ(rows2[0].name, "salesforce");
  EXPECT_GT(rows2[0].events, rows1[0].events) << "the rendered count did not rise";
  std::cout << "rendered events: " << rows1[0].events << " then " << rows2[0].events << "\n";

  std::string png = dir_.File("status-page.png");
  Chromium(base + "/status", {"--screenshot=" + png, "--window-size=1280,900", "--hide-scrollbars"},
           "shot");
  ASSERT_GT(testing::FileSize(png), 10'000u) << "no (or an empty) screenshot";
  std::string header = ReadFile(png).substr(0, 8);
  EXPECT_EQ(header, std::string("\x89PNG\r\n\x1a\n", 8));
  const char* artifacts = std::getenv("FORCEPIPE_ARTIFACTS_DIR");
  std::filesystem::path out_dir =
      artifacts && *artifacts ? artifacts : std::filesystem::current_path() / "artifacts";
  std::filesystem::create_directories(out_dir);
  std::filesystem::copy_file(png, out_dir / "status-page.png",
                             std::filesystem::copy_options::overwrite_existing);
  std::cout << "screenshot: " << (out_dir / "status-page.png").string() << "\n";

  demo.Signal(SIGINT);
  int st = demo.Wait(std::chrono::seconds(60));
  ASSERT_NE(st, -1) << "demo did not stop on SIGINT";
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << ReadFile(err);
}

}  // namespace
}  // namespace forcepipe
