#include "sinks/loki/tests/loki_receiver.h"

#include <httplib.h>
#include <snappy.h>
#include <zlib.h>

#include <nlohmann/json.hpp>
#include <set>

#include "sinks/loki/proto/push.pb.h"

namespace forcepipe::loki_test {
namespace {

// cpp-httplib may already have inflated a gzip body; inflate here if not.
bool MaybeGunzip(std::string* body) {
  if (body->size() < 2 || uint8_t((*body)[0]) != 0x1f || uint8_t((*body)[1]) != 0x8b) return true;
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return false;
  std::string out;
  char buf[65536];
  zs.next_in = reinterpret_cast<Bytef*>(body->data());
  zs.avail_in = uInt(body->size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof(buf) - zs.avail_out);
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) return false;
  *body = std::move(out);
  return true;
}

}  // namespace

Result<std::map<std::string, std::string>> ParseLabelSet(std::string_view s) {
  std::map<std::string, std::string> out;
  size_t i = 0;
  auto skip_ws = [&] {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  };
  skip_ws();
  if (i >= s.size() || s[i] != '{') return Status::InvalidArgument("label set must start with {");
  ++i;
  while (true) {
    skip_ws();
    if (i < s.size() && s[i] == '}') {
      ++i;
      break;
    }
    size_t start = i;
    while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_')) ++i;
    std::string name(s.substr(start, i - start));
    if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) {
      return Status::InvalidArgument("bad label name at " + std::to_string(start));
    }
    skip_ws();
    if (i >= s.size() || s[i] != '=') return Status::InvalidArgument("expected = after " + name);
    ++i;
    skip_ws();
    if (i >= s.size() || s[i] != '"') return Status::InvalidArgument("expected \" for " + name);
    ++i;
    std::string value;
    bool closed = false;
    while (i < s.size()) {
      char c = s[i++];
      if (c == '"') {
        closed = true;
        break;
      }
      if (c == '\n') return Status::InvalidArgument("raw newline in value of " + name);
      if (c == '\\') {
        if (i >= s.size()) break;
        char e = s[i++];
        if (e == 'n') {
          value.push_back('\n');
        } else if (e == '\\' || e == '"') {
          value.push_back(e);
        } else {
          return Status::InvalidArgument("bad escape in value of " + name);
        }
      } else {
        value.push_back(c);
      }
    }
    if (!closed) return Status::InvalidArgument("unterminated value of " + name);
    if (!out.emplace(name, value).second) {
      return Status::InvalidArgument("duplicate label " + name);
    }
    skip_ws();
    if (i < s.size() && s[i] == ',') ++i;
  }
  skip_ws();
  if (i != s.size()) return Status::InvalidArgument("trailing bytes after label set");
  return out;
}

Status DecodePush(std::string_view body, std::string_view content_type,
                  std::vector<ReceivedEntry>* out, size_t* message_bytes) {
  if (content_type.rfind("application/json", 0) == 0) {
    *message_bytes = body.size();
    try {
      auto j = nlohmann::json::parse(body);
      for (const auto& stream : j.at("streams")) {
        std::map<std::string, std::string> labels;
        for (const auto& [k, v] : stream.at("stream").items()) labels[k] = v.get<std::string>();
        for (const auto& v : stream.at("values")) {
          ReceivedEntry e;
          e.label_map = labels;
          e.timestamp_ns = std::stoll(v.at(0).get<std::string>());
          e.line = v.at(1).get<std::string>();
          if (v.size() > 2) {
            for (const auto& [k, mv] : v.at(2).items()) {
              e.metadata.emplace_back(k, mv.get<std::string>());
            }
          }
          out->push_back(std::move(e));
        }
      }
    } catch (const std::exception& ex) {
      return Status::InvalidArgument(std::string("json: ") + ex.what());
    }
    return Status::Ok();
  }
  std::string raw;
  if (!snappy::Uncompress(body.data(), body.size(), &raw)) {
    return Status::InvalidArgument("snappy: body is not snappy block format");
  }
  *message_bytes = raw.size();
  logproto::PushRequest req;
  if (!req.ParseFromString(raw)) return Status::InvalidArgument("protobuf: cannot parse");
  for (const auto& stream : req.streams()) {
    auto labels = ParseLabelSet(stream.labels());
    if (!labels.ok()) return labels.status().WithContext("labels " + stream.labels());
    for (const auto& pe : stream.entries()) {
      ReceivedEntry e;
      e.labels = stream.labels();
      e.label_map = *labels;
      e.timestamp_ns = pe.timestamp().seconds() * 1'000'000'000 + pe.timestamp().nanos();
      e.line = pe.line();
      for (const auto& kv : pe.structuredmetadata()) e.metadata.emplace_back(kv.name(), kv.value());
      out->push_back(std::move(e));
    }
  }
  return Status::Ok();
}

std::string EntryToJson(const ReceivedEntry& e) {
  nlohmann::json j;
  j["tenant"] = e.tenant;
  j["labels"] = e.label_map;
  j["ts"] = std::to_string(e.timestamp_ns);
  j["line"] = e.line;
  nlohmann::json md = nlohmann::json::object();
  for (const auto& [k, v] : e.metadata) md[k] = v;
  j["metadata"] = md;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

LokiReceiver::LokiReceiver() : server_(std::make_unique<httplib::Server>()) {}

LokiReceiver::LokiReceiver(const std::string& cert_file, const std::string& key_file)
    : server_(std::make_unique<httplib::SSLServer>(cert_file.c_str(), key_file.c_str())),
      tls_(true) {}

LokiReceiver::~LokiReceiver() { Stop(); }

std::string LokiReceiver::url() const {
  return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
}

Status LokiReceiver::Start(int port, const std::string& host) {
  server_->set_tcp_nodelay(true);  // headers and body are separate writes
  server_->Get("/ready", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ready", "text/plain");
  });
  server_->Get(
      "/loki/api/v1/status/buildinfo", [](const httplib::Request&, httplib::Response& res) {
        res.set_content(R"({"version":"3.4.6-receiver","revision":"test","branch":"test"})",
                        "application/json");
      });
  server_->Get("/config", [this](const httplib::Request&, httplib::Response& res) {
    std::lock_guard<std::mutex> l(mu_);
    std::string y = "target: all\nlimits_config:\n";
    y += "  ingestion_rate_mb: 4\n";
    y += "  ingestion_burst_size_mb: " +
         (burst_bytes_ == SIZE_MAX ? std::string("6")
                                   : std::to_string(double(burst_bytes_) / (1024 * 1024))) +
         "\n";
    y += "  max_line_size: " + std::to_string(max_line_bytes_) + "B\n";
    y += "  max_line_size_truncate: false\n";
    y += std::string("  allow_structured_metadata: ") + (allow_metadata_ ? "true" : "false") + "\n";
    res.set_content(y, "text/plain");
  });
  server_->Post("/loki/api/v1/push", [this](const httplib::Request& req, httplib::Response& res) {
    ReceivedRequest r;
    for (const auto& [k, v] : req.headers) r.headers[k] = v;
    r.content_type = req.get_header_value("Content-Type");
    r.content_encoding = req.get_header_value("Content-Encoding");
    r.has_tenant = req.has_header("X-Scope-OrgID");
    r.tenant = req.get_header_value("X-Scope-OrgID");
    r.authorization = req.get_header_value("Authorization");
    r.remote_port = req.remote_port;
    int status = 204;
    std::string reply;
    std::map<std::string, std::string> reply_headers;
    Handle(req.body, std::move(r), &status, &reply, &reply_headers);
    res.status = status;
    for (const auto& [k, v] : reply_headers) res.set_header(k, v);
    if (!reply.empty()) res.set_content(reply, "text/plain");
  });
  if (port == 0) {
    port_ = server_->bind_to_any_port(host);
    if (port_ <= 0) return Status::IOError("loki receiver: cannot bind " + host);
  } else {
    if (!server_->bind_to_port(host, port)) {
      return Status::IOError("loki receiver: cannot bind " + host + ":" + std::to_string(port));
    }
    port_ = port;
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // cpp-httplib ignores stop() until the listen loop runs: wait for it, so a
  // Stop() right after Start() cannot leave the loop running forever.
  for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
       !server_->is_running() && std::chrono::steady_clock::now() < until;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  // cpp-httplib 0.11 has no wait_until_ready: poll is_running with a deadline.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!server_->is_running()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return Status::DeadlineExceeded("loki receiver did not start");
    }
    std::this_thread::yield();
  }
  return Status::Ok();
}

void LokiReceiver::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

void LokiReceiver::Script(ScriptedResponse r) {
  std::lock_guard<std::mutex> l(mu_);
  script_.push_back(std::move(r));
}

void LokiReceiver::RejectLinesContaining(std::string needle, std::string reason) {
  std::lock_guard<std::mutex> l(mu_);
  reject_needle_ = std::move(needle);
  reject_reason_ = std::move(reason);
}

void LokiReceiver::SetMaxLineBytes(size_t bytes) {
  std::lock_guard<std::mutex> l(mu_);
  max_line_bytes_ = bytes;
}

void LokiReceiver::SetMaxMessageBytes(size_t bytes, int status) {
  std::lock_guard<std::mutex> l(mu_);
  max_message_bytes_ = bytes;
  too_large_status_ = status;
}

void LokiReceiver::SetAllowStructuredMetadata(bool allow) {
  std::lock_guard<std::mutex> l(mu_);
  allow_metadata_ = allow;
}

void LokiReceiver::SetIngestionBurstBytes(size_t burst) {
  std::lock_guard<std::mutex> l(mu_);
  burst_bytes_ = burst;
}

void LokiReceiver::SetSharding(bool on) {
  std::lock_guard<std::mutex> l(mu_);
  sharding_ = on;
}

void LokiReceiver::OnStored(std::function<void(const std::vector<ReceivedEntry>&)> fn) {
  std::lock_guard<std::mutex> l(mu_);
  on_stored_ = std::move(fn);
}

void LokiReceiver::Handle(const std::string& raw_body, ReceivedRequest r, int* status,
                          std::string* reply, std::map<std::string, std::string>* reply_headers) {
  std::string body = raw_body;
  size_t message_bytes = 0;
  Status decoded = Status::Ok();
  if (r.content_encoding == "gzip" || r.content_encoding == "deflate") {
    if (!MaybeGunzip(&body)) decoded = Status::InvalidArgument("gzip: cannot inflate");
  } else if (!r.content_encoding.empty()) {
    decoded = Status::InvalidArgument("unsupported Content-Encoding " + r.content_encoding);
  }
  if (decoded.ok()) decoded = DecodePush(body, r.content_type, &r.entries, &message_bytes);
  for (auto& e : r.entries) e.tenant = r.tenant;

  std::vector<ReceivedEntry> to_store;
  std::function<void(const std::vector<ReceivedEntry>&)> on_stored;
  {
    std::unique_lock<std::mutex> l(mu_);
    on_stored = on_stored_;
    if (!script_.empty()) {
      ScriptedResponse s = std::move(script_.front());
      script_.pop_front();
      if (s.delay > Duration{0}) cv_.wait_for(l, s.delay, [&] { return stopping_; });
      *status = s.status;
      *reply = s.body;
      *reply_headers = s.headers;
      if (s.status >= 200 && s.status < 300) to_store = r.entries;
    } else if (!decoded.ok()) {
      *status = 400;
      *reply = decoded.message();
      r.error = decoded.message();
    } else if (r.entries.empty()) {
      *status = 422;
      *reply = "no streams";
    } else if (message_bytes > max_message_bytes_) {
      *status = too_large_status_;
      *reply = too_large_status_ == 500
                   ? "rpc error: code = ResourceExhausted desc = grpc: received message larger "
                     "than max (" +
                         std::to_string(message_bytes) + " vs. " +
                         std::to_string(max_message_bytes_) + ")"
                   : "request body too large";
    } else {
      size_t line_bytes = 0;
      for (const auto& e : r.entries) line_bytes += e.line.size();
      ++push_count_;
      if (line_bytes > burst_bytes_) {
        *status = 429;
        *reply = "Ingestion rate limit exceeded for user " +
                 (r.tenant.empty() ? std::string("fake") : r.tenant) +
                 " (limit: " + std::to_string(burst_bytes_) +
                 " bytes/sec) while attempting to ingest '" + std::to_string(r.entries.size()) +
                 "' lines totaling '" + std::to_string(line_bytes) +
                 "' bytes, reduce log volume or contact your Loki administrator to see if the "
                 "limit can be increased";
        r.status = *status;
        requests_.push_back(std::move(r));
        l.unlock();
        cv_.notify_all();
        return;
      }
      // The server echoes a stream's labels sorted, as `{a="b", c="d"}`.
      auto echo = [](const ReceivedEntry& e) {
        std::string out = "{";
        for (const auto& [k, v] : e.label_map) {
          if (out.size() > 1) out += ", ";
          out += k + "=\"";
          for (char c : v) {
            if (c == '"' || c == '\\') out.push_back('\\');
            if (c == '\n') {
              out += "\\n";
              continue;
            }
            out.push_back(c);
          }
          out += "\"";
        }
        return out + "}";
      };
      std::set<std::string> md_streams;
      if (!allow_metadata_) {
        for (const auto& e : r.entries) {
          if (!e.metadata.empty()) md_streams.insert(echo(e));
        }
      }
      std::vector<std::string> errors;
      for (const auto& s : md_streams) {
        errors.push_back("stream '" + s +
                         "' includes structured metadata, but this feature is disallowed. Please "
                         "see `limits_config.allow_structured_metadata` or contact your Loki "
                         "administrator to enable it.");
      }
      int shard = sharding_ ? int(push_count_ % 2) : 0;
      for (auto& e : r.entries) {
        std::string err;
        std::string stream = echo(e);
        if (md_streams.count(stream)) continue;
        if (!reject_needle_.empty() && e.line.find(reject_needle_) != std::string::npos) {
          err = reject_reason_;
        } else if (e.line.size() > max_line_bytes_) {
          err = "Max entry size '" + std::to_string(max_line_bytes_) +
                "' bytes exceeded for stream '" + stream + "' while adding an entry with length '" +
                std::to_string(e.line.size()) + "' bytes";
        }
        if (!err.empty()) {
          errors.push_back(err);
          continue;
        }
        e.shard = shard;
        auto& last = last_in_shard_[{stream, shard}];
        if (last.first == e.timestamp_ns && last.second == e.line) continue;  // dedup in shard
        last = {e.timestamp_ns, e.line};
        to_store.push_back(e);
      }
      if (!errors.empty()) {
        *status = 400;
        for (const auto& err : errors) *reply += err + "\n";
      }
    }
    r.status = *status;
  }
  // Persist (callback) before answering, so "answered 204" implies "stored".
  if (on_stored && !to_store.empty()) on_stored(to_store);
  {
    std::lock_guard<std::mutex> l(mu_);
    stored_.insert(stored_.end(), to_store.begin(), to_store.end());
    requests_.push_back(std::move(r));
  }
  cv_.notify_all();
}

std::vector<ReceivedRequest> LokiReceiver::requests() const {
  std::lock_guard<std::mutex> l(mu_);
  return requests_;
}

std::vector<ReceivedEntry> LokiReceiver::stored() const {
  std::lock_guard<std::mutex> l(mu_);
  return stored_;
}

bool LokiReceiver::WaitForRequests(size_t n, Duration timeout) const {
  std::unique_lock<std::mutex> l(mu_);
  return cv_.wait_for(l, timeout, [&] { return requests_.size() >= n; });
}

bool LokiReceiver::WaitForStored(size_t n, Duration timeout) const {
  std::unique_lock<std::mutex> l(mu_);
  return cv_.wait_for(l, timeout, [&] { return stored_.size() >= n; });
}

}  // namespace forcepipe::loki_test
