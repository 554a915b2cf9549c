#include "server/server.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>

#include "checkpoint/memory_store.h"
#include "core/log.h"
#include "testing/fakes.h"
#include "testing/process.h"

namespace forcepipe::server {
namespace {

using testing::CollectingSink;
using testing::MakeEntry;
using testing::WaitUntil;

struct SinkHandle final : Sink {
  CollectingSink* inner;
  explicit SinkHandle(CollectingSink* s) : inner(s) {}
  std::string_view kind() const override { return "collecting"; }
  PushOutcome Push(const Batch& b) override { return inner->Push(b); }
  std::vector<MetricSample> Metrics() const override {
    return {{"collecting_pushes_total",
             "Pushes seen.",
             true,
             {},
             static_cast<double>(inner->pushes())}};
  }
};

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<Entry> script;
    for (int i = 1; i <= 20; ++i)
      script.push_back(MakeEntry("k", std::to_string(i), "line" + std::to_string(i)));
    std::vector<std::unique_ptr<Source>> sources;
    sources.push_back(std::make_unique<testing::ScriptedSource>("scripted-src", script,
                                                                LaneKind::kStreaming, true));
    EngineOptions eo;
    eo.streaming.batch_interval = std::chrono::milliseconds(5);
    // The engine waits on clock_ (a ManualClock): batches close on size, not on the
    // interval, unless a test advances the clock.
    eo.streaming.batch_max_entries = 20;
    eo.streaming.retry.initial = std::chrono::milliseconds(1);
    eo.streaming.retry.max = std::chrono::milliseconds(5);
    eo.shutdown_grace = std::chrono::milliseconds(200);
    engine_ = std::make_unique<Engine>(eo, std::move(sources), std::make_unique<SinkHandle>(&sink_),
                                       std::make_unique<MemoryCheckpointStore>(), &clock_);
  }
  void TearDown() override {
    engine_->RequestStop();
    if (runner_.joinable()) runner_.join();
  }
  void StartEngine() {
    runner_ = std::thread([this] { run_status_ = engine_->Run(); });
    ASSERT_TRUE(WaitUntil([&] { return engine_->running(); }));
  }

  ManualClock clock_;
  CollectingSink sink_;
  std::unique_ptr<Engine> engine_;
  std::thread runner_;
  Status run_status_;
};

TEST_F(ServerTest, HealthzAndStatusJsonListStreams) {
  StartEngine();
  ASSERT_TRUE(WaitUntil([&] { return sink_.delivered_count() == 20; }));
  ServerOptions o;
  o.listen = "127.0.0.1:0";
  StatusServer server(o, engine_.get(), &clock_);
  ASSERT_TRUE(server.Start().ok());
  httplib::Client c("127.0.0.1", server.port());
  auto h = c.Get("/healthz");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  auto s = c.Get("/status.json");
  ASSERT_TRUE(s);
  auto j = nlohmann::json::parse(s->body);
  EXPECT_TRUE(j["ready"].get<bool>());
  ASSERT_EQ(j["sources"].size(), 1u);
  EXPECT_EQ(j["sources"][0]["name"], "scripted-src");
  EXPECT_EQ(j["sources"][0]["events"], 20);
  EXPECT_EQ(j["lanes"][0]["delivered"], 20);
  EXPECT_TRUE(WaitUntil([&] { return !engine_->committed().empty(); }));
  auto page = c.Get("/status");
  ASSERT_TRUE(page);
  EXPECT_NE(page->body.find("<title>forcepipe status</title>"), std::string::npos);
  EXPECT_EQ(page->body.find("http://"), std::string::npos)
      << "the page must not load external assets";
}

TEST_F(ServerTest, ReadyzTurns503WhileSinkFailsPastThresholdAndRecovers) {
  std::atomic<bool> down{true};
  sink_.SetHook([&](const Batch&) -> std::optional<PushOutcome> {
    if (down) return PushOutcome::Retryable("connection refused");
    return std::nullopt;
  });
  StartEngine();
  ServerOptions o;
  o.listen = "127.0.0.1:0";
  o.sink_failing_threshold = std::chrono::seconds(60);
  StatusServer server(o, engine_.get(), &clock_);
  ASSERT_TRUE(server.Start().ok());
  httplib::Client c("127.0.0.1", server.port());
  ASSERT_TRUE(
      WaitUntil([&] { return engine_->lane(LaneKind::kStreaming)->stats().retries.load() > 0; }));
  auto r1 = c.Get("/readyz");
  ASSERT_TRUE(r1);
  EXPECT_EQ(r1->status, 200) << "failing for less than the threshold is still ready";
  clock_.Advance(std::chrono::seconds(61));
  auto r2 = c.Get("/readyz");
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->status, 503);
  EXPECT_NE(r2->body.find("sink collecting failing for 61s in the streaming lane"),
            std::string::npos)
      << r2->body;
  down = false;
  // The retry backoff waits on the manual clock: drive it until the batch is retried.
  ASSERT_TRUE(WaitUntil([&] {
    clock_.AdvanceToNextDeadline();
    return sink_.delivered_count() == 20;
  }));
  ASSERT_TRUE(WaitUntil([&] {
    auto r = c.Get("/readyz");
    return r && r->status == 200;
  }));
}

TEST_F(ServerTest, MetricsPassPromtool) {
  StartEngine();
  ASSERT_TRUE(WaitUntil([&] { return sink_.delivered_count() == 20; }));
  ServerOptions o;
  o.listen = "127.0.0.1:0";
  StatusServer server(o, engine_.get(), &clock_);
  ASSERT_TRUE(server.Start().ok());
  httplib::Client c("127.0.0.1", server.port());
  auto m = c.Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 200);
  EXPECT_NE(m->body.find("forcepipe_source_events_total{source=\"scripted-src\",kind=\"scripted\","
                         "lane=\"streaming\"} 20"),
            std::string::npos)
      << m->body.substr(0, 2000);
  EXPECT_NE(m->body.find("forcepipe_sink_push_duration_seconds_bucket"), std::string::npos);
  EXPECT_NE(m->body.find("forcepipe_build_info{version=\"0.1.0\"} 1"), std::string::npos);
  // The sink's own metrics, labelled with the sink.
  EXPECT_NE(m->body.find("forcepipe_collecting_pushes_total{sink=\"collecting\"} " +
                         std::to_string(sink_.pushes())),
            std::string::npos);
  // promtool (Debian package prometheus) is the reference checker.
  testing::TempDir dir;
  testing::WriteFile(dir.File("metrics.txt"), m->body);
  std::string cmd =
      "promtool check metrics < " + dir.File("metrics.txt") + " > " + dir.File("out.txt") + " 2>&1";
  int rc = std::system(cmd.c_str());
  EXPECT_EQ(rc, 0) << "promtool: " << testing::ReadFile(dir.File("out.txt"));
}

TEST_F(ServerTest, AuthTokenProtectsEverythingButHealthz) {
  StartEngine();
  ServerOptions o;
  o.listen = "127.0.0.1:0";
  o.auth_token = "tok-0123456789";
  StatusServer server(o, engine_.get(), &clock_);
  ASSERT_TRUE(server.Start().ok());
  httplib::Client c("127.0.0.1", server.port());
  EXPECT_EQ(c.Get("/healthz")->status, 200);
  EXPECT_EQ(c.Get("/metrics")->status, 401);
  EXPECT_EQ(c.Get("/status.json")->status, 401);
  httplib::Headers auth = {{"Authorization", "Bearer tok-0123456789"}};
  EXPECT_EQ(c.Get("/metrics", auth)->status, 200);
}

TEST_F(ServerTest, ExtraRoutesReceiveCaptures) {
  ServerOptions o;
  o.listen = "127.0.0.1:0";
  StatusServer server(o, engine_.get(), &clock_);
  server.AddRoute(
      R"(/api/v1/records/([^/]+)/events)", [](const std::map<std::string, std::string>& p) {
        return StatusServer::Response{200, "application/json", "{\"id\":\"" + p.at("1") + "\"}"};
      });
  ASSERT_TRUE(server.Start().ok());
  httplib::Client c("127.0.0.1", server.port());
  auto r = c.Get("/api/v1/records/001ABC/events");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->body, "{\"id\":\"001ABC\"}");
  auto ready = c.Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 503) << "an engine that is not running is not ready";
  EXPECT_NE(ready->body.find("starting"), std::string::npos);
}

TEST_F(ServerTest, QueryParameterCannotOverrideAPathCapture) {
  ServerOptions o;
  o.listen = "127.0.0.1:0";
  StatusServer server(o, engine_.get(), &clock_);
  server.AddRoute(R"(/api/v1/records/([A-Za-z0-9]{1,8})/events)",
                  [](const std::map<std::string, std::string>& p) {
                    std::string limit = p.count("limit") ? p.at("limit") : "";
                    return StatusServer::Response{
                        200, "application/json",
                        "{\"id\":\"" + p.at("1") + "\",\"limit\":\"" + limit + "\"}"};
                  });
  ASSERT_TRUE(server.Start().ok());
  httplib::Client c("127.0.0.1", server.port());
  // The path's capture passed the pattern; "?1=" must not replace it with an
  // id the pattern would have refused.
  auto r = c.Get("/api/v1/records/abc/events?1=..%2F..%2Fsecret-record");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;
  EXPECT_EQ(r->body.find("secret-record"), std::string::npos) << r->body;
  EXPECT_NE(r->body.find("reserved for the path"), std::string::npos) << r->body;
  r = c.Get("/api/v1/records/abc/events?limit=5");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "{\"id\":\"abc\",\"limit\":\"5\"}");
}

// A source that reports a health problem (as PubSubSource does for a topic
// failing past `unhealthy_after`, or a failed topic) until it is cleared.
class ReportingSource final : public Source {
 public:
  std::string_view kind() const override { return "reporting"; }
  const std::string& name() const override { return name_; }
  LaneKind lane() const override { return LaneKind::kStreaming; }
  Status Run(SourceContext& ctx) override {
    bool reported = false;
    while (!ctx.stopping()) {
      bool want = unhealthy_.load();
      if (want != reported) {
        ctx.SetHealth(want ? "topic /data/AccountChangeEvent failing for 61s (9 attempts): "
                             "failed to connect to all addresses"
                           : "");
        reported = want;
        ++reports_;
      }
      ctx.WaitFor(std::chrono::milliseconds(5));
    }
    return Status::Ok();
  }
  std::atomic<bool> unhealthy_{true};
  std::atomic<int> reports_{0};

 private:
  std::string name_ = "sf";
};

TEST(ServerReadiness, SourceHealthProblemIsNotReadyWithTheReasonAndHealthyZero) {
  ManualClock clock;
  auto src = std::make_unique<ReportingSource>();
  ReportingSource* source = src.get();
  std::vector<std::unique_ptr<Source>> sources;
  sources.push_back(std::move(src));
  CollectingSink sink;
  EngineOptions eo;
  eo.shutdown_grace = std::chrono::milliseconds(200);
  Engine engine(eo, std::move(sources), std::make_unique<SinkHandle>(&sink),
                std::make_unique<MemoryCheckpointStore>(), &clock);
  Status run_status;
  std::thread runner([&] { run_status = engine.Run(); });
  ServerOptions o;
  o.listen = "127.0.0.1:0";
  StatusServer server(o, &engine, &clock);
  ASSERT_TRUE(server.Start().ok());
  httplib::Client c("127.0.0.1", server.port());
  auto healthy_metric = [&] {
    auto m = c.Get("/metrics");
    if (!m) return std::string("no answer");
    auto at = m->body.find("\nforcepipe_source_healthy{");
    return at == std::string::npos ? std::string("absent")
                                   : m->body.substr(at + 1, m->body.find('\n', at + 1) - at - 1);
  };
  ASSERT_TRUE(WaitUntil([&] { return engine.running() && source->reports_ == 1; }));
  auto r = c.Get("/readyz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_NE(r->body.find("source sf: topic /data/AccountChangeEvent failing for 61s"),
            std::string::npos)
      << r->body;
  EXPECT_EQ(healthy_metric().back(), '0') << healthy_metric();
  source->unhealthy_ = false;
  // The source paces itself with ctx.WaitFor on the engine's ManualClock: drive it.
  ASSERT_TRUE(WaitUntil([&] {
    clock.Advance(std::chrono::milliseconds(5));
    return source->reports_ == 2;
  }));
  r = c.Get("/readyz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(healthy_metric().back(), '1') << healthy_metric();
  server.Stop();
  engine.RequestStop();
  runner.join();
}

// Clients that send their request one byte at a time, until the server closes
// the connection or the test ends.
class SlowClients {
 public:
  SlowClients(int port, int n) {
    for (int i = 0; i < n; ++i) threads_.emplace_back([this, port] { Trickle(port); });
  }
  ~SlowClients() {
    {
      std::lock_guard<std::mutex> l(mu_);
      done_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  int connected() const { return connected_.load(); }

 private:
  void Trickle(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0) {
      ++connected_;
      const std::string req =
          "GET /status.json HTTP/1.1\r\nHost: slow\r\nX-Pad: " + std::string(4000, 'x') +
          "\r\n\r\n";
      std::unique_lock<std::mutex> l(mu_);
      for (size_t i = 0; i < req.size() && !done_; ++i) {
        if (::send(fd, &req[i], 1, MSG_NOSIGNAL) != 1) break;  // closed by the server
        // The client's pace (one byte per 100 ms), not a wait for a result.
        cv_.wait_for(l, std::chrono::milliseconds(100), [&] { return done_; });
      }
    }
    ::close(fd);
  }

  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::atomic<int> connected_{0};
  std::vector<std::thread> threads_;
};

TEST_F(ServerTest, SlowClientsHoldingEveryWorkerDoNotStarveHealthz) {
  ServerOptions o;
  o.listen = "127.0.0.1:0";
  o.workers = 2;
  o.request_timeout = std::chrono::seconds(1);
  StatusServer server(o, engine_.get(), &clock_);
  ASSERT_TRUE(server.Start().ok());
  // More slow connections than workers (and than httplib's default pool of 8),
  // each trickling a header byte at a time: a per-read timeout never trips.
  SlowClients slow(server.port(), 10);
  ASSERT_TRUE(WaitUntil([&] { return slow.connected() == 10; }));
  httplib::Client c("127.0.0.1", server.port());
  c.set_connection_timeout(std::chrono::seconds(6));
  c.set_read_timeout(std::chrono::seconds(6));
  const auto start = std::chrono::steady_clock::now();
  auto r = c.Get("/healthz");
  const auto took = std::chrono::steady_clock::now() - start;
  const auto took_ms = std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
  ASSERT_TRUE(r) << "/healthz starved by slow clients: " << httplib::to_string(r.error())
                 << " after " << took_ms << "ms";
  EXPECT_EQ(r->status, 200);
  EXPECT_LT(took, std::chrono::seconds(4))
      << "/healthz waited " << took_ms << "ms for slow clients past the request timeout";
}

}  // namespace
}  // namespace forcepipe::server
