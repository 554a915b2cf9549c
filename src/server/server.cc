#include "server/server.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <thread>

#include "core/json_text.h"
#include "core/log.h"
#include "server/metrics.h"
#include "server/status_page.h"

namespace forcepipe::server {
namespace {

using config::OptionType;

const config::OptionTable kServerOptions = {
    {.key = "enabled",
     .type = OptionType::kBool,
     .default_value = "true",
     .description = "serve /metrics, /healthz, /readyz and /status"},
    {.key = "listen",
     .type = OptionType::kString,
     .default_value = "127.0.0.1:8080",
     .description = "host:port to bind; port 0 picks a free port"},
    {.key = "auth_token",
     .type = OptionType::kSecret,
     .description = "when set, every route but /healthz needs Authorization: Bearer <token>"},
    {.key = "sink_failing_threshold",
     .type = OptionType::kDuration,
     .default_value = "2m",
     .description = "/readyz answers 503 once a sink has been failing this long",
     .min = 0,
     .max = 86400},
    {.key = "workers",
     .type = OptionType::kInt,
     .default_value = "32",
     .description = "connections served at once",
     .min = 2,
     .max = 1024},
    {.key = "request_timeout",
     .type = OptionType::kDuration,
     .default_value = "10s",
     .description = "a whole request (from accept, however slowly it trickles in) must be done "
                    "within this, else the connection is closed",
     .min = 0.05,
     .max = 600},
};

using SteadyClock = std::chrono::steady_clock;

// When the connection the current worker thread serves was accepted.
thread_local SteadyClock::time_point t_accepted_at;

// A fixed pool of workers like httplib::ThreadPool, that also stamps each
// connection with the time it was queued (= accepted), for the request deadline.
class StampedPool final : public httplib::TaskQueue {
 public:
  explicit StampedPool(size_t n) {
    for (size_t i = 0; i < n; ++i) threads_.emplace_back([this] { Work(); });
  }
  void enqueue(std::function<void()> fn) override {
    {
      std::lock_guard<std::mutex> l(mu_);
      jobs_.push_back({SteadyClock::now(), std::move(fn)});
    }
    cv_.notify_one();
  }
  void shutdown() override {
    {
      std::lock_guard<std::mutex> l(mu_);
      shutdown_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

 private:
  struct Job {
    SteadyClock::time_point queued;
    std::function<void()> fn;
  };
  void Work() {
    for (;;) {
      Job job;
      {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait(l, [&] { return shutdown_ || !jobs_.empty(); });
        if (jobs_.empty()) return;  // shutting down
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      t_accepted_at = job.queued;
      job.fn();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;   // GUARDED_BY(mu_)
  bool shutdown_ = false;  // GUARDED_BY(mu_)
  std::vector<std::thread> threads_;
};

// A socket stream whose every read and write must finish before one deadline
// (httplib's own SocketStream times out per recv, which a client sending a byte
// at a time never trips). Gives up early when the server stops.
class DeadlineStream final : public httplib::Stream {
 public:
  DeadlineStream(int sock, const std::atomic<int>* server_sock)
      : sock_(sock), server_sock_(server_sock) {}

  void set_deadline(SteadyClock::time_point d) { deadline_ = d; }

  // Waits until the socket is readable (or `ev` is ready) before the deadline.
  bool Ready(short ev) const {
    for (;;) {
      if (*server_sock_ == INVALID_SOCKET) return false;  // stopping
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - SteadyClock::now());
      if (left.count() <= 0) return false;
      pollfd p{sock_, ev, 0};
      int n = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 100)));
      if (n > 0) return true;  // ready, or an error the next call reports
      if (n < 0 && errno != EINTR) return false;
    }
  }

  bool is_readable() const override { return pos_ < len_ || Ready(POLLIN); }
  bool is_writable() const override { return Ready(POLLOUT); }

  ssize_t read(char* ptr, size_t size) override {
    if (pos_ >= len_) {
      if (!Ready(POLLIN)) return -1;
      ssize_t n;
      do {
        n = ::recv(sock_, buf_, sizeof(buf_), 0);
      } while (n < 0 && errno == EINTR);
      if (n <= 0) return n;
      pos_ = 0;
      len_ = static_cast<size_t>(n);
    }
    size_t k = std::min(size, len_ - pos_);
    std::memcpy(ptr, buf_ + pos_, k);
    pos_ += k;
    return static_cast<ssize_t>(k);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!Ready(POLLOUT)) return -1;
    ssize_t n;
    do {
      n = ::send(sock_, ptr, size, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    Address(::getpeername, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    Address(::getsockname, ip, port);
  }
  int socket() const override { return sock_; }

 private:
  void Address(int (*get)(int, sockaddr*, socklen_t*), std::string& ip, int& port) const {
    sockaddr_storage a{};
    socklen_t len = sizeof(a);
    if (get(sock_, reinterpret_cast<sockaddr*>(&a), &len) != 0) return;
    char buf[INET6_ADDRSTRLEN] = {};
    if (a.ss_family == AF_INET) {
      auto* v4 = reinterpret_cast<sockaddr_in*>(&a);
      ::inet_ntop(AF_INET, &v4->sin_addr, buf, sizeof(buf));
      port = ntohs(v4->sin_port);
    } else if (a.ss_family == AF_INET6) {
      auto* v6 = reinterpret_cast<sockaddr_in6*>(&a);
      ::inet_ntop(AF_INET6, &v6->sin6_addr, buf, sizeof(buf));
      port = ntohs(v6->sin6_port);
    }
    ip = buf;
  }

  int sock_;
  const std::atomic<int>* server_sock_;
  SteadyClock::time_point deadline_;
  char buf_[4096];
  size_t pos_ = 0;
  size_t len_ = 0;
};

// httplib::Server with a deadline on each whole request (see ServerOptions).
class BoundedHttpServer final : public httplib::Server {
 public:
  explicit BoundedHttpServer(Duration request_timeout) : request_timeout_(request_timeout) {}

 private:
  // Replaces httplib's per-connection loop (which times out per recv).
  bool process_and_close_socket(int sock) override {
    const auto timeout = std::chrono::duration_cast<SteadyClock::duration>(request_timeout_);
    const auto keep_alive = std::chrono::seconds(keep_alive_timeout_sec_);
    DeadlineStream strm(sock, &svr_sock_);
    bool ret = false;
    // The first request's time runs from accept, so time spent queued for a
    // worker counts: a backlog of slow clients expires together. A connection
    // whose whole request head is already here when a worker takes it (a fast
    // client queued behind slow ones, e.g. a probe of /healthz) gets a full
    // timeout from now; one that waited out most of its time in the queue
    // without sending its head is closed at once.
    SteadyClock::time_point start = t_accepted_at;
    if (HeadArrived(sock)) {
      start = SteadyClock::now();
    } else if (SteadyClock::now() + timeout / 4 >= start + timeout) {
      ::shutdown(sock, SHUT_RDWR);
      ::close(sock);
      return false;
    }
    for (size_t left = keep_alive_max_count_; left > 0; --left) {
      if (left != keep_alive_max_count_) {
        strm.set_deadline(SteadyClock::now() + keep_alive);  // idle between requests
        if (!strm.is_readable()) break;
        start = SteadyClock::now();
      }
      strm.set_deadline(start + timeout);
      if (!strm.is_readable()) break;
      bool closed = false;
      ret = process_request(strm, left == 1, closed, nullptr);
      if (!ret || closed) break;
    }
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return ret;
  }

  // True when the socket already holds a complete request head (through the
  // blank line), without waiting.
  static bool HeadArrived(int sock) {
    static constexpr size_t kMax = 16 * 1024;
    std::string buf(kMax, '\0');
    ssize_t n = ::recv(sock, buf.data(), kMax, MSG_PEEK | MSG_DONTWAIT);
    if (n <= 0) return false;
    buf.resize(static_cast<size_t>(n));
    return buf.find("\r\n\r\n") != std::string::npos || buf.find("\n\n") != std::string::npos;
  }

  Duration request_timeout_;
};

std::string Json(std::string_view s) {
  std::string out;
  json::AppendString(&out, s);
  return out;
}

std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.3f", v);
  return buf;
}

bool IsLoopback(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

}  // namespace

const config::OptionTable& ServerOptionTable() { return kServerOptions; }

Readiness CheckReadiness(const Engine& engine, const ServerOptions& options, const Clock& clock) {
  Readiness r;
  if (!engine.running()) r.reasons.push_back(engine.stop_requested() ? "stopping" : "starting");
  const int64_t now = clock.NowUnixNanos();
  // The earliest failing lane counts.
  int64_t earliest = 0;
  const char* which = nullptr;
  for (LaneKind k : {LaneKind::kStreaming, LaneKind::kBulk}) {
    int64_t since = engine.lane(k)->stats().failing_since_unix_ns.load();
    if (since && (!earliest || since < earliest)) {
      earliest = since;
      which = k == LaneKind::kStreaming ? "streaming" : "bulk";
    }
  }
  if (earliest) {
    double secs = static_cast<double>(now - earliest) / 1e9;
    double threshold = std::chrono::duration<double>(options.sink_failing_threshold).count();
    if (secs >= threshold) {
      r.reasons.push_back("sink " + std::string(engine.sink()->kind()) + " failing for " +
                          std::to_string(static_cast<int64_t>(secs)) + "s in the " + which +
                          " lane (threshold " + std::to_string(static_cast<int64_t>(threshold)) +
                          "s)");
    }
  }
  for (LaneKind k : {LaneKind::kStreaming, LaneKind::kBulk}) {
    const LaneStats& st = engine.lane(k)->stats();
    if (int64_t since = st.dead_letter_failing_since_unix_ns.load()) {
      r.reasons.push_back("dead-letter file cannot be written for " +
                          std::to_string(std::max<int64_t>(0, (now - since) / 1'000'000'000)) +
                          "s in the " + std::string(LaneKindName(k)) + " lane (" +
                          std::to_string(st.dead_letter_failures.load()) +
                          " failures; positions held until it can)");
    }
  }
  const auto& sources = engine.source_status();
  for (size_t i = 0; i < sources.size(); ++i) {
    auto [err, health] = engine.SourceProblems(i);
    if (!err.empty())
      r.reasons.push_back("source " + sources[i]->name + " failed: " + log::Redact(err));
    if (!health.empty())
      r.reasons.push_back("source " + sources[i]->name + ": " + log::Redact(health));
  }
  return r;
}

std::string RenderStatusJson(const Engine& engine, const ServerOptions& options, const Clock& clock,
                             const std::map<std::string, double>& rates) {
  const int64_t now = clock.NowUnixNanos();
  auto rate = [&](const std::string& k) {
    auto it = rates.find(k);
    return it == rates.end() ? 0.0 : it->second;
  };
  Readiness rd = CheckReadiness(engine, options, clock);
  std::string j = "{\"version\":" + Json(options.version) +
                  ",\"now_ms\":" + std::to_string(now / 1'000'000) +
                  ",\"ready\":" + (rd.ready() ? "true" : "false") + ",\"reasons\":[";
  for (size_t i = 0; i < rd.reasons.size(); ++i) j += (i ? "," : "") + Json(rd.reasons[i]);
  j += "],\"sink\":{\"kind\":" + Json(engine.sink()->kind()) + "},\"sources\":[";
  const auto& sources = engine.source_status();
  for (size_t i = 0; i < sources.size(); ++i) {
    const auto& s = *sources[i];
    auto [err, health] = engine.SourceProblems(i);
    int64_t last = s.last_event_unix_ns.load();
    j += std::string(i ? "," : "") + "{\"name\":" + Json(s.name) + ",\"kind\":" + Json(s.kind) +
         ",\"lane\":" + Json(LaneKindName(s.lane)) +
         ",\"running\":" + (s.running.load() ? "true" : "false") +
         ",\"events\":" + std::to_string(s.emitted.load()) +
         ",\"rate\":" + Num(rate("source:" + s.name)) + ",\"lag_s\":" +
         (last ? Num(std::max<double>(0, static_cast<double>(now - last) / 1e9)) : "null") +
         ",\"error\":" + Json(log::Redact(err)) + ",\"health\":" + Json(log::Redact(health)) + "}";
  }
  j += "],\"lanes\":[";
  bool first = true;
  for (LaneKind k : {LaneKind::kStreaming, LaneKind::kBulk}) {
    const Lane* l = engine.lane(k);
    const auto& st = l->stats();
    std::string name(LaneKindName(k));
    int64_t failing = st.failing_since_unix_ns.load();
    int64_t commit = st.last_commit_unix_ns.load();
    j += std::string(first ? "" : ",") + "{\"name\":" + Json(name) +
         ",\"held_entries\":" + std::to_string(l->held_entries()) +
         ",\"max_entries\":" + std::to_string(l->options().queue_max_entries) +
         ",\"held_bytes\":" + std::to_string(l->held_bytes()) +
         ",\"max_bytes\":" + std::to_string(l->options().queue_max_bytes) +
         ",\"delivered\":" + std::to_string(st.entries_delivered.load()) +
         ",\"dropped\":" + std::to_string(st.entries_dropped.load()) +
         ",\"retries\":" + std::to_string(st.retries.load()) +
         ",\"rate\":" + Num(rate("lane:" + name)) + ",\"failing_for_s\":" +
         (failing ? Num(static_cast<double>(now - failing) / 1e9) : "null") +
         ",\"checkpoint_age_s\":" +
         (commit ? Num(static_cast<double>(now - commit) / 1e9) : "null") + "}";
    first = false;
  }
  j += "],\"checkpoints\":[";
  first = true;
  for (const auto& [k, v] : engine.committed()) {
    j += std::string(first ? "" : ",") + "{\"key\":" + Json(k) + ",\"value\":" + Json(v) + "}";
    first = false;
  }
  j += "],\"dead_letters\":" + std::to_string(engine.dead_letters()) + ",\"recent_errors\":[";
  auto recent = log::Recent();
  for (size_t i = 0; i < recent.size(); ++i) {
    const auto& m = recent[i];
    j += std::string(i ? "," : "") + "{\"ts_ms\":" + std::to_string(m.unix_ms) +
         ",\"level\":" + Json(m.level) + ",\"component\":" + Json(m.component) +
         ",\"text\":" + Json(m.text) + "}";
  }
  j += "]}";
  return j;
}

StatusServer::StatusServer(ServerOptions options, const Engine* engine, const Clock* clock)
    : options_(std::move(options)),
      engine_(engine),
      clock_(clock),
      http_(std::make_unique<BoundedHttpServer>(options_.request_timeout)) {
  const size_t workers = static_cast<size_t>(std::max(2, options_.workers));
  http_->new_task_queue = [workers] { return new StampedPool(workers); };
}

StatusServer::~StatusServer() { Stop(); }

void StatusServer::AddRoute(const std::string& pattern, Handler handler) {
  routes_.emplace_back(pattern, std::move(handler));
}

std::string StatusServer::base_url() const {
  std::string h = host_.find(':') != std::string::npos ? "[" + host_ + "]" : host_;
  return "http://" + h + ":" + std::to_string(port_);
}

Status StatusServer::Start() {
  auto colon = options_.listen.rfind(':');
  if (colon == std::string::npos) {
    return Status::InvalidArgument("server.listen: expected host:port, got \"" + options_.listen +
                                   "\"");
  }
  host_ = options_.listen.substr(0, colon);
  if (host_.size() > 2 && host_.front() == '[') host_ = host_.substr(1, host_.size() - 2);
  int port = std::atoi(options_.listen.c_str() + colon + 1);
  if (!IsLoopback(host_) && options_.auth_token.empty()) {
    log::Get("server")->warn(
        "serving on {} beyond loopback without server.auth_token: anyone who can reach it "
        "can read status and metrics",
        options_.listen);
  }

  auto authorized = [this](const httplib::Request& req, httplib::Response& res) {
    if (options_.auth_token.empty()) return true;
    if (req.get_header_value("Authorization") == "Bearer " + options_.auth_token) return true;
    res.status = 401;
    res.set_header("WWW-Authenticate", "Bearer");
    res.set_content("unauthorized\n", "text/plain");
    return false;
  };
  http_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  http_->Get("/readyz", [this, authorized](const httplib::Request& req, httplib::Response& res) {
    if (!authorized(req, res)) return;
    Readiness r = CheckReadiness(*engine_, options_, *clock_);
    if (r.ready()) {
      res.set_content("ready\n", "text/plain");
      return;
    }
    std::string body;
    for (const auto& reason : r.reasons) body += reason + "\n";
    res.status = 503;
    res.set_content(body, "text/plain");
  });
  http_->Get("/metrics", [this, authorized](const httplib::Request& req, httplib::Response& res) {
    if (!authorized(req, res)) return;
    bool ready = CheckReadiness(*engine_, options_, *clock_).ready();
    res.set_content(RenderMetrics(*engine_, options_.version, ready, *clock_),
                    "text/plain; version=0.0.4");
  });
  http_->Get(
      "/status.json", [this, authorized](const httplib::Request& req, httplib::Response& res) {
        if (!authorized(req, res)) return;
        std::map<std::string, double> rates;
        {
          std::lock_guard<std::mutex> l(rates_mu_);
          rates = rates_;
        }
        res.set_header("Cache-Control", "no-store");
        res.set_content(RenderStatusJson(*engine_, options_, *clock_, rates), "application/json");
      });
  http_->Get("/status", [authorized](const httplib::Request& req, httplib::Response& res) {
    if (!authorized(req, res)) return;
    res.set_content(kStatusPageHtml, "text/html; charset=utf-8");
  });
  http_->Get("/",
             [](const httplib::Request&, httplib::Response& res) { res.set_redirect("/status"); });
  for (auto& [pattern, handler] : routes_) {
    Handler h = handler;
    http_->Get(pattern, [h, authorized](const httplib::Request& req, httplib::Response& res) {
      if (!authorized(req, res)) return;
      // Captures are the path's, as the pattern validated them: a query
      // parameter may not stand in for one.
      std::map<std::string, std::string> params;
      for (const auto& [k, v] : req.params) {
        if (!k.empty() && k.find_first_not_of("0123456789") == std::string::npos) {
          res.status = 400;
          res.set_content("query parameter \"" + k.substr(0, 16) +
                              "\": numeric names are reserved for the path\n",
                          "text/plain");
          return;
        }
        params[k] = v;
      }
      for (size_t i = 1; i < req.matches.size(); ++i) params[std::to_string(i)] = req.matches[i];
      Response r = h(params);
      res.status = r.status;
      res.set_content(r.body, r.content_type.c_str());
    });
  }
  http_->set_payload_max_length(64 * 1024);
  // Per-read and per-write limits are BoundedHttpServer's whole-request deadline.
  http_->set_keep_alive_timeout(5);

  if (port == 0) {
    port_ = http_->bind_to_any_port(host_);
  } else {
    port_ = http_->bind_to_port(host_, port) ? port : -1;
  }
  if (port_ <= 0) {
    return Status::Unavailable("server: cannot listen on " + options_.listen + ": " +
                               std::strerror(errno));
  }
  listener_ = std::thread([this] { http_->listen_after_bind(); });
  // cpp-httplib ignores stop() until the listen loop runs: wait for it, so a
  // Stop() right after Start() cannot leave the loop running forever.
  for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
       !http_->is_running() && std::chrono::steady_clock::now() < until;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  sampler_ = std::thread([this] { SampleRates(); });
  log::Get("server")->info("status page at {}/status", base_url());
  return Status::Ok();
}

void StatusServer::SampleRates() {
  std::map<std::string, uint64_t> prev;
  auto prev_t = std::chrono::steady_clock::now();
  while (!stopping_) {
    for (int i = 0; i < 10 && !stopping_; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // 1 s tick
    auto now = std::chrono::steady_clock::now();
    double dt = std::chrono::duration<double>(now - prev_t).count();
    prev_t = now;
    std::map<std::string, uint64_t> cur;
    for (const auto& s : engine_->source_status()) cur["source:" + s->name] = s->emitted.load();
    for (LaneKind k : {LaneKind::kStreaming, LaneKind::kBulk}) {
      cur["lane:" + std::string(LaneKindName(k))] =
          engine_->lane(k)->stats().entries_delivered.load();
    }
    std::map<std::string, double> r;
    for (const auto& [k, v] : cur) {
      auto it = prev.find(k);
      r[k] = it == prev.end() || dt <= 0 ? 0 : static_cast<double>(v - it->second) / dt;
    }
    prev = std::move(cur);
    std::lock_guard<std::mutex> l(rates_mu_);
    rates_ = std::move(r);
  }
}

void StatusServer::Stop() {
  if (stopping_.exchange(true)) return;
  if (http_) http_->stop();
  if (listener_.joinable()) listener_.join();
  if (sampler_.joinable()) sampler_.join();
}

}  // namespace forcepipe::server
