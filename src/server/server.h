#pragma once

// The operations HTTP server: /metrics, /healthz, /readyz, /status (HTML),
// /status.json, plus routes other components add (e.g. record history).
//
// Binds 127.0.0.1:8080 by default. With `auth_token` set, every route but
// /healthz requires `Authorization: Bearer <token>`; binding beyond loopback
// without a token logs a warning.
//
// Slow clients: `workers` threads serve connections, and each request must be
// complete within `request_timeout` (a deadline on the whole request, not per
// read), counted from accept for a connection's first request.
//
// Threads: cpp-httplib's listener, `workers` worker threads, plus one sampler
// thread that computes rates once a second. Lifecycle: Start -> Stop
// (idempotent).

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config/options.h"
#include "core/clock.h"
#include "core/status.h"
#include "pipeline/engine.h"

namespace httplib {
class Server;
}

namespace forcepipe::server {

struct ServerOptions {
  std::string listen = "127.0.0.1:8080";  // host:port; port 0 picks a free one
  std::string auth_token;                 // "" = no auth
  // /readyz turns 503 once a sink has been failing this long.
  Duration sink_failing_threshold = std::chrono::minutes(2);
  // Connections served at once; more wait for a free worker.
  int workers = 32;
  // The whole of one request (waiting for a worker, reading it, handling it,
  // writing the answer) must fit in this, however the client trickles bytes;
  // past it the connection is closed. The first request's clock starts when
  // the connection is accepted, so slow clients cannot hold every worker and
  // starve /healthz for longer than this.
  Duration request_timeout = std::chrono::seconds(10);
  std::string version = "0.1.0";
};

const config::OptionTable& ServerOptionTable();

// Readiness verdict: empty `reasons` means ready.
struct Readiness {
  std::vector<std::string> reasons;
  bool ready() const { return reasons.empty(); }
};
Readiness CheckReadiness(const Engine& engine, const ServerOptions& options, const Clock& clock);

// JSON document behind /status and /status.json. `rates` maps "source:<name>"
// and "lane:<name>" to events/s.
std::string RenderStatusJson(const Engine& engine, const ServerOptions& options, const Clock& clock,
                             const std::map<std::string, double>& rates);

class StatusServer {
 public:
  // A route handler: returns {status, content_type, body}.
  struct Response {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
  };
  using Handler = std::function<Response(const std::map<std::string, std::string>& params)>;

  StatusServer(ServerOptions options, const Engine* engine, const Clock* clock = Clock::Real());
  ~StatusServer();

  // Adds GET `pattern` (a regex, e.g. R"(/api/v1/records/([^/]+)/events)"); the
  // path captures are passed as params "1", "2", ... and the query parameters
  // under their names. Numeric names belong to the captures: a query
  // parameter with one is refused (400), so a capture is always the path's,
  // as `pattern` validated it. REQUIRES: before Start.
  void AddRoute(const std::string& pattern, Handler handler);

  Status Start();
  void Stop();
  int port() const { return port_; }
  std::string base_url() const;

 private:
  void SampleRates();

  ServerOptions options_;
  const Engine* engine_;
  const Clock* clock_;
  std::unique_ptr<httplib::Server> http_;
  std::vector<std::pair<std::string, Handler>> routes_;
  std::thread listener_;
  std::thread sampler_;
  std::atomic<bool> stopping_{false};
  std::string host_;
  int port_ = 0;
  std::mutex rates_mu_;
  std::map<std::string, double> rates_;
};

}  // namespace forcepipe::server
