// JsonlSink and StdoutSink: output parses, fields round-trip, append across
// reopen, fsync option, error paths, factories.

#include "sinks/file/file_sinks.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "testing/process.h"

namespace forcepipe {
namespace {

using nlohmann::json;

using TempDir = ::forcepipe::testing::TempDir;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string line;
  while (std::getline(ss, line)) out.push_back(line);
  return out;
}

// Synthetic-shaped entries, as the synthetic source makes them.
Batch MakeBatch(int key, int first_seq, int n, size_t pad = 20) {
  static auto labels =
      std::make_shared<LabelSet>(LabelSet{{"source", "synthetic"}, {"event_type", "synthetic"}});
  Batch b;
  for (int i = 0; i < n; ++i) {
    const int seq = first_seq + i;
    const std::string id = "gen-k" + std::to_string(key) + "-" + std::to_string(seq);
    Entry e;
    e.timestamp_ns = 1'700'000'000'000'000'000 + seq;
    e.labels = labels;
    e.line = R"({"id":")" + id + R"(","key":)" + std::to_string(key) + R"(,"seq":)" +
             std::to_string(seq) + R"(,"pad":")" + std::string(pad, 'x') + "\"}";
    e.structured_metadata = {{"event_id", id}};
    e.objects = {{"Account", "001" + std::to_string(seq)}};
    e.checkpoint = {"synthetic:gen:k" + std::to_string(key), std::to_string(seq)};
    e.byte_size = e.ComputeByteSize();
    b.bytes += e.byte_size;
    b.entries.push_back(std::move(e));
  }
  return b;
}

JsonlSink::Options JsonlOpts(const std::string& path, bool fsync = true,
                             FileSinkFormat format = FileSinkFormat::kJson) {
  JsonlSink::Options o;
  o.path = path;
  o.fsync = fsync;
  o.format = format;
  return o;
}

TEST(JsonlSink, OutputParsesAndFieldsRoundTrip) {
  TempDir dir;
  const std::string path = dir.File("out/deeper/events.jsonl");  // parents are created
  JsonlSink sink(JsonlOpts(path));
  ASSERT_TRUE(sink.Start().ok());
  Batch b = MakeBatch(1, 1, 50);
  b.entries[3].line = "tab\there \"quoted\" \x01 caf\xc3\xa9 bad\xff";
  ASSERT_EQ(sink.Push(b).kind, PushOutcome::Kind::kOk);
  sink.Stop();

  auto lines = Lines(ReadAll(path));
  ASSERT_EQ(lines.size(), 50u);
  for (size_t i = 0; i < lines.size(); ++i) {
    json j = json::parse(lines[i]);
    const Entry& e = b.entries[i];
    char ts[64];
    std::snprintf(ts, sizeof ts, "2023-11-14T22:13:20.%09zuZ", i + 1);  // seq i+1 in the nanos
    EXPECT_EQ(j["ts"], ts) << "entry " << i;
    EXPECT_EQ(j["labels"]["source"], "synthetic");
    EXPECT_EQ(j["labels"]["event_type"], "synthetic");
    EXPECT_EQ(j["metadata"]["event_id"], e.structured_metadata[0].value);
    EXPECT_EQ(j["objects"][0]["type"], "Account");
    EXPECT_EQ(j["objects"][0]["id"], e.objects[0].id);
    if (i == 3) {
      EXPECT_EQ(j["line"], "tab\there \"quoted\" \x01 caf\xc3\xa9 bad\xef\xbf\xbd");
    } else {
      EXPECT_EQ(j["line"], e.line);
      EXPECT_EQ(json::parse(j["line"].get<std::string>())["seq"], i + 1);
    }
  }
  EXPECT_EQ(sink.stats().entries, 50u);
  EXPECT_EQ(sink.stats().bytes, ReadAll(path).size());
}

TEST(JsonlSink, LineFormatWritesRawLines) {
  TempDir dir;
  const std::string path = dir.File("raw.log");
  JsonlSink sink(JsonlOpts(path, false, FileSinkFormat::kLine));
  ASSERT_TRUE(sink.Start().ok());
  Batch b = MakeBatch(2, 7, 3);
  ASSERT_EQ(sink.Push(b).kind, PushOutcome::Kind::kOk);
  sink.Stop();
  EXPECT_EQ(ReadAll(path),
            b.entries[0].line + "\n" + b.entries[1].line + "\n" + b.entries[2].line + "\n");
}

TEST(JsonlSink, AppendsAcrossReopen) {
  TempDir dir;
  const std::string path = dir.File("events.jsonl");
  for (int run = 0; run < 3; ++run) {
    JsonlSink sink(JsonlOpts(path));
    ASSERT_TRUE(sink.Start().ok());
    ASSERT_EQ(sink.Push(MakeBatch(0, run * 10 + 1, 10)).kind, PushOutcome::Kind::kOk);
    sink.Stop();
  }
  auto lines = Lines(ReadAll(path));
  ASSERT_EQ(lines.size(), 30u);
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(json::parse(lines[i])["metadata"]["event_id"], "gen-k0-" + std::to_string(i + 1));
  }
}

TEST(JsonlSink, TornLastLineFromAKilledWriterIsCutOnStart) {
  TempDir dir;
  const std::string path = dir.File("events.jsonl");
  {
    JsonlSink sink(JsonlOpts(path));
    ASSERT_TRUE(sink.Start().ok());
    ASSERT_EQ(sink.Push(MakeBatch(0, 1, 2)).kind, PushOutcome::Kind::kOk);
  }
  std::string good = ReadAll(path);
  {
    std::ofstream out(path, std::ios::app | std::ios::binary);
    out << "{\"ts\":\"2026-01-01T00:00:00Z\",\"lin";  // a write cut short by SIGKILL
  }
  JsonlSink sink(JsonlOpts(path));
  ASSERT_TRUE(sink.Start().ok());
  EXPECT_EQ(ReadAll(path), good) << "the torn tail must be removed before appending";
  ASSERT_EQ(sink.Push(MakeBatch(0, 3, 1)).kind, PushOutcome::Kind::kOk);
  auto lines = Lines(ReadAll(path));
  ASSERT_EQ(lines.size(), 3u);
  for (const auto& l : lines) EXPECT_NO_THROW(json::parse(l)) << l;

  // A file that is one torn line and nothing else becomes empty.
  const std::string only = dir.File("only.jsonl");
  { std::ofstream(only, std::ios::binary) << "{\"partial"; }
  JsonlSink s2(JsonlOpts(only));
  ASSERT_TRUE(s2.Start().ok());
  EXPECT_EQ(ReadAll(only), "");
}

TEST(JsonlSink, LargeBatchIsWrittenInChunksCompletely) {
  TempDir dir;
  const std::string path = dir.File("big.jsonl");
  JsonlSink sink(JsonlOpts(path, false));
  ASSERT_TRUE(sink.Start().ok());
  Batch b = MakeBatch(3, 1, 5000, 1000);  // ~5.5 MB, several 1 MiB chunks
  ASSERT_EQ(sink.Push(b).kind, PushOutcome::Kind::kOk);
  auto lines = Lines(ReadAll(path));
  ASSERT_EQ(lines.size(), 5000u);
  EXPECT_EQ(json::parse(lines.back())["line"], b.entries.back().line);
}

TEST(JsonlSink, FsyncOptionSyncsEveryBatchOrNever) {
  TempDir dir;
  JsonlSink synced(JsonlOpts(dir.File("a.jsonl"), true));
  JsonlSink unsynced(JsonlOpts(dir.File("b.jsonl"), false));
  ASSERT_TRUE(synced.Start().ok());
  ASSERT_TRUE(unsynced.Start().ok());
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(synced.Push(MakeBatch(0, i * 2 + 1, 2)).kind, PushOutcome::Kind::kOk);
    ASSERT_EQ(unsynced.Push(MakeBatch(0, i * 2 + 1, 2)).kind, PushOutcome::Kind::kOk);
  }
  EXPECT_EQ(synced.stats().syncs, 4u);
  EXPECT_EQ(synced.stats().batches, 4u);
  EXPECT_EQ(unsynced.stats().syncs, 0u);
  EXPECT_EQ(unsynced.stats().batches, 4u);
  EXPECT_EQ(ReadAll(dir.File("a.jsonl")), ReadAll(dir.File("b.jsonl")));
}

TEST(JsonlSink, StartFailsNamingTheFileWhenThePathIsUnusable) {
  TempDir dir;
  const std::string blocker = dir.File("not-a-dir");
  std::ofstream(blocker) << "x";
  const std::string path = blocker + "/events.jsonl";  // ENOTDIR, even for root
  JsonlSink sink(JsonlOpts(path));
  Status s = sink.Start();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(path), std::string::npos) << s.message();
}

TEST(JsonlSink, PushIsRetryableNamingTheFileUntilThePathWorks) {
  TempDir dir;
  const std::string blocker = dir.File("later-a-dir");
  std::ofstream(blocker) << "x";
  const std::string path = blocker + "/events.jsonl";
  JsonlSink sink(JsonlOpts(path));
  PushOutcome o = sink.Push(MakeBatch(0, 1, 2));
  ASSERT_EQ(o.kind, PushOutcome::Kind::kRetryable);
  EXPECT_NE(o.reason.find(path), std::string::npos) << o.reason;
  EXPECT_NE(o.reason.find(std::strerror(ENOTDIR)), std::string::npos) << o.reason;
  EXPECT_EQ(sink.stats().errors, 1u);

  std::filesystem::remove(blocker);
  ASSERT_EQ(sink.Push(MakeBatch(0, 1, 2)).kind, PushOutcome::Kind::kOk);
  EXPECT_EQ(Lines(ReadAll(path)).size(), 2u);
}

TEST(JsonlSink, WriteErrorIsRetryableWithErrnoText) {
  JsonlSink sink(JsonlOpts("/dev/full"));
  ASSERT_TRUE(sink.Start().ok());
  PushOutcome o = sink.Push(MakeBatch(0, 1, 3));
  ASSERT_EQ(o.kind, PushOutcome::Kind::kRetryable);
  EXPECT_NE(o.reason.find("/dev/full"), std::string::npos) << o.reason;
  EXPECT_NE(o.reason.find(std::strerror(ENOSPC)), std::string::npos) << o.reason;
  EXPECT_EQ(sink.stats().batches, 0u);
}

// A write that fails part-way (file size limit) leaves no torn line: the file
// is cut back to where the batch started, and the retried batch follows
// cleanly.
TEST(JsonlSink, FailedPartialWriteIsCutBackBeforeRetry) {
  TempDir dir;
  const std::string path = dir.File("limited.jsonl");
  JsonlSink sink(JsonlOpts(path));
  ASSERT_TRUE(sink.Start().ok());
  ASSERT_EQ(sink.Push(MakeBatch(0, 1, 2)).kind, PushOutcome::Kind::kOk);
  const auto before = std::filesystem::file_size(path);

  struct rlimit old {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
  struct rlimit lim = old;
  lim.rlim_cur = before + 150;  // room for part of one entry
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &lim), 0);
  PushOutcome o = sink.Push(MakeBatch(0, 3, 5));
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old), 0);
  ::signal(SIGXFSZ, old_handler);

  ASSERT_EQ(o.kind, PushOutcome::Kind::kRetryable);
  EXPECT_NE(o.reason.find(path), std::string::npos) << o.reason;
  EXPECT_EQ(std::filesystem::file_size(path), before);
  ASSERT_EQ(sink.Push(MakeBatch(0, 3, 5)).kind, PushOutcome::Kind::kOk);
  auto lines = Lines(ReadAll(path));
  ASSERT_EQ(lines.size(), 7u);
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(json::parse(lines[i])["metadata"]["event_id"], "gen-k0-" + std::to_string(i + 1));
  }
}

TEST(StdoutSink, WritesEachBatchToTheDescriptorAtOnce) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  StdoutSink sink({FileSinkFormat::kJson, fds[1]});
  Batch b = MakeBatch(5, 1, 4);
  ASSERT_EQ(sink.Push(b).kind, PushOutcome::Kind::kOk);
  ::close(fds[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  auto lines = Lines(out);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(json::parse(lines[2])["line"], b.entries[2].line);
  EXPECT_EQ(sink.stats().entries, 4u);
}

TEST(StdoutSink, LineFormatAndBrokenPipeIsRetryable) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  StdoutSink sink({FileSinkFormat::kLine, fds[1]});
  Batch b = MakeBatch(5, 1, 2);
  ASSERT_EQ(sink.Push(b).kind, PushOutcome::Kind::kOk);
  char buf[4096];
  ssize_t n = ::read(fds[0], buf, sizeof buf);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)),
            b.entries[0].line + "\n" + b.entries[1].line + "\n");
  ::close(fds[0]);
  auto old = ::signal(SIGPIPE, SIG_IGN);
  PushOutcome o = sink.Push(b);
  ::signal(SIGPIPE, old);
  ::close(fds[1]);
  ASSERT_EQ(o.kind, PushOutcome::Kind::kRetryable);
  EXPECT_NE(o.reason.find(std::strerror(EPIPE)), std::string::npos) << o.reason;
}

Result<std::unique_ptr<Sink>> Create(const SinkFactory& f, const std::string& yaml) {
  FP_ASSIGN_OR_RETURN(config::Node node,
                      config::Validate(YAML::Load(yaml), *f.options, "sinks.out"));
  return f.create(node, FactoryContext{});
}

TEST(FileSinkFactories, BuildWorkingSinksAndRejectBadOptions) {
  TempDir dir;
  const std::string path = dir.File("f.jsonl");
  auto jsonl = JsonlSinkFactory();
  auto stdout_factory = StdoutSinkFactory();
  EXPECT_EQ(jsonl.kind, "jsonl");
  EXPECT_EQ(stdout_factory.kind, "stdout");
  for (const auto* f : {&jsonl, &stdout_factory}) {
    for (const auto& o : *f->options) {
      for (const char* reserved : {"type", "batch", "max_in_flight", "retry"}) {
        EXPECT_NE(o.key, reserved);
      }
    }
  }
  auto sink = Create(jsonl, "path: " + path + "\nformat: line\nfsync: false\n");
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  EXPECT_EQ((*sink)->kind(), "jsonl");
  ASSERT_TRUE((*sink)->Start().ok());
  Batch b = MakeBatch(0, 1, 1);
  ASSERT_EQ((*sink)->Push(b).kind, PushOutcome::Kind::kOk);
  (*sink)->Stop();
  EXPECT_EQ(ReadAll(path), b.entries[0].line + "\n");

  EXPECT_FALSE(Create(jsonl, "format: json\n").ok());          // path is required
  EXPECT_FALSE(Create(jsonl, "path: x\nformat: xml\n").ok());  // not a choice
  EXPECT_FALSE(Create(jsonl, "path: x\nfsnyc: true\n").ok());  // unknown key
  auto so = Create(stdout_factory, "{}");
  ASSERT_TRUE(so.ok()) << so.status().ToString();
  EXPECT_EQ((*so)->kind(), "stdout");
}

}  // namespace
}  // namespace forcepipe
