#pragma once

// A Loki-compatible push receiver for tests: a real HTTP server (cpp-httplib)
// on loopback that decodes POST /loki/api/v1/push bodies exactly as the spec
// says Loki does (protobuf + snappy block unless Content-Type is
// application/json; gzip Content-Encoding accepted), records every request, and
// answers either 204 or a scripted response.
//
// Behaviours that mirror Loki: entries whose line contains a configured
// needle, or is longer than max_line_bytes, are refused with 400 while the
// other entries of the same request are stored (partial success); a decoded
// PushRequest over max_message_bytes gets 500 "grpc: received message larger
// than max" (or 413).
//
// Thread safety: all methods are safe to call from any thread.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace httplib {
class Server;
}

namespace forcepipe::loki_test {

struct ReceivedEntry {
  std::string tenant;  // X-Scope-OrgID, "" when absent
  std::string labels;  // the labels string as sent (protobuf); "" for JSON
  std::map<std::string, std::string> label_map;
  int64_t timestamp_ns = 0;
  std::string line;
  std::vector<std::pair<std::string, std::string>> metadata;  // in order sent
  int shard = 0;  // the __stream_shard__ it was stored in (sharding on)
};

struct ReceivedRequest {
  int status = 0;  // what the receiver answered
  std::string content_type;
  std::string content_encoding;
  bool has_tenant = false;
  std::string tenant;
  std::string authorization;
  int remote_port = 0;  // the client's port: equal across requests = connection reused
  std::map<std::string, std::string> headers;  // every header, as received
  std::vector<ReceivedEntry> entries;          // decoded (all, accepted or not)
  std::string error;                           // decode error, if any
};

struct ScriptedResponse {
  int status = 204;
  std::string body;
  std::map<std::string, std::string> headers;
  // Answer only after this long (or when the receiver stops), to test timeouts.
  Duration delay{0};
};

class LokiReceiver {
 public:
  LokiReceiver();
  // HTTPS with the given PEM certificate and key.
  LokiReceiver(const std::string& cert_file, const std::string& key_file);
  ~LokiReceiver();

  // Binds host:port (0 = any free port) and serves on a thread.
  Status Start(int port = 0, const std::string& host = "127.0.0.1");
  void Stop();
  int port() const { return port_; }
  std::string url() const;  // http[s]://127.0.0.1:<port>

  // The next request (FIFO over calls) is answered with `r` and nothing of it is
  // stored unless r.status is 2xx.
  void Script(ScriptedResponse r);
  void RejectLinesContaining(std::string needle, std::string reason);
  void SetMaxLineBytes(size_t bytes);
  void SetMaxMessageBytes(size_t bytes, int status = 500);
  // Loki 3.x behaviours. With metadata disallowed, each stream of a request
  // whose entries carry structured metadata is refused whole (400, Loki's
  // text) while the other streams are stored. A request whose lines total more
  // than `burst` bytes is refused 429 (Loki's text, no Retry-After) every time.
  // Sharding (on by default): each request's streams land in shard
  // request_number % 2, and only an entry equal (timestamp and line) to the
  // previous entry of the same stream *and shard* is dropped, so a re-sent
  // entry may be stored twice, as on a real Loki 3.x.
  void SetAllowStructuredMetadata(bool allow);
  void SetIngestionBurstBytes(size_t burst);
  void SetSharding(bool on);
  // Called (under no lock) for each stored entry of a request before the
  // response is sent.
  void OnStored(std::function<void(const std::vector<ReceivedEntry>&)> fn);

  std::vector<ReceivedRequest> requests() const;
  std::vector<ReceivedEntry> stored() const;
  bool WaitForRequests(size_t n, Duration timeout) const;
  bool WaitForStored(size_t n, Duration timeout) const;

 private:
  void Handle(const std::string& body, ReceivedRequest req, int* status, std::string* reply,
              std::map<std::string, std::string>* reply_headers);

  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  bool tls_ = false;
  bool stopping_ = false;  // guarded by mu_

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::deque<ScriptedResponse> script_;
  std::string reject_needle_, reject_reason_;
  size_t max_line_bytes_ = 256 * 1024;
  size_t max_message_bytes_ = SIZE_MAX;
  int too_large_status_ = 500;
  bool allow_metadata_ = true;
  size_t burst_bytes_ = SIZE_MAX;
  bool sharding_ = true;
  uint64_t push_count_ = 0;
  std::map<std::pair<std::string, int>, std::pair<int64_t, std::string>> last_in_shard_;
  std::function<void(const std::vector<ReceivedEntry>&)> on_stored_;
  std::vector<ReceivedRequest> requests_;
  std::vector<ReceivedEntry> stored_;
};

// Parses a Prometheus label set such as {a="b", c="x\"y"} (unescaping).
Result<std::map<std::string, std::string>> ParseLabelSet(std::string_view text);

// Decodes a push body (already gzip-decoded). Sets *message_bytes to the size
// of the serialized PushRequest (protobuf) or JSON text.
Status DecodePush(std::string_view body, std::string_view content_type,
                  std::vector<ReceivedEntry>* out, size_t* message_bytes);

// {"tenant":..,"labels":{..},"ts":"<ns>","line":..,"metadata":{..}}
std::string EntryToJson(const ReceivedEntry& e);

}  // namespace forcepipe::loki_test
