#include "sources/pubsub/tools.h"

#include <condition_variable>
#include <istream>
#include <mutex>
#include <ostream>
#include <thread>
#include <vector>

#include "avro/encoder.h"
#include "avro/json_value.h"
#include "core/json_text.h"
#include "core/log.h"
#include "sources/pubsub/event_mapper.h"
#include "sources/pubsub/pubsub_source.h"

namespace forcepipe::pubsub {
namespace {

// A SourceContext that prints entries instead of queueing them.
class PrintContext final : public SourceContext {
 public:
  PrintContext(std::FILE* out, int64_t limit, std::optional<std::string> from,
               const std::atomic<bool>* stop)
      : out_(out), limit_(limit), from_(std::move(from)), stop_(stop) {}
  bool Emit(Entry e) override {
    if (stopping()) return false;
    if (e.checkpoint_only) return true;
    fwrite_unlocked(e.line.data(), 1, e.line.size(), out_);  // only this thread writes out_
    putc_unlocked('\n', out_);
    if (limit_ > 0 && ++count_ >= limit_) {
      std::fflush(out_);
      std::lock_guard<std::mutex> l(mu_);
      done_ = true;
      cv_.notify_all();
    }
    return true;
  }
  bool stopping() const override { return done_ || (stop_ && stop_->load()); }
  bool WaitFor(Duration d) override {
    auto end = std::chrono::steady_clock::now() + d;
    std::unique_lock<std::mutex> l(mu_);
    while (!stopping() && std::chrono::steady_clock::now() < end) {
      // Woken at once when the limit is reached; the external stop flag
      // (a signal) is noticed within a tick.
      cv_.wait_until(
          l, std::min(end, std::chrono::steady_clock::now() + std::chrono::milliseconds(20)));
    }
    return !stopping();
  }
  Result<std::optional<std::string>> LoadCheckpoint(std::string_view) override { return from_; }
  const Clock& clock() const override { return *Clock::Real(); }
  void SetHealth(std::string_view problem) override {
    if (!problem.empty()) log::Get("tail")->warn("{}", problem);
  }
  int64_t count() const { return count_; }

 private:
  std::FILE* out_;
  int64_t limit_;
  std::optional<std::string> from_;
  const std::atomic<bool>* stop_;
  int64_t count_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> done_{false};
};

std::string JsonString(std::string_view s) {
  std::string out;
  json::AppendString(&out, s);
  return out;
}

}  // namespace

Status RunTail(Connection conn, const TailOptions& o, std::FILE* out,
               const std::atomic<bool>* stop) {
  PubSubSourceOptions so;
  so.name = "tail";
  so.topics = {o.topic};
  so.client = conn.client;
  so.batch_size = o.batch_size;
  so.line_only = true;
  so.reconnect.initial = std::chrono::milliseconds(200);
  so.reconnect.max = std::chrono::seconds(10);
  std::optional<std::string> from;
  if (o.from == "earliest") {
    so.initial_preset = Preset::kEarliest;
  } else if (o.from == "latest") {
    so.initial_preset = Preset::kLatest;
  } else {
    auto bytes = Base64Decode(o.from);
    if (!bytes || bytes->empty()) {
      return Status::InvalidArgument(
          "--from: expected earliest, latest or a base64 replay id, got \"" + o.from + "\"");
    }
    from = o.from;
  }
  std::vector<char> buf(64 << 10);  // larger buffers measured no faster
  std::setvbuf(out, buf.data(), _IOFBF, buf.size());
  PubSubSource source(so, std::move(conn.tokens));
  PrintContext ctx(out, o.limit, from, stop);
  Status s = source.Run(ctx);
  std::fflush(out);
  std::setvbuf(out, nullptr, _IOLBF, 0);
  return s;
}

Status RunSchema(Connection conn, const std::string& topic, const std::string& schema_id,
                 std::ostream& out) {
  PubSubClient client(conn.client, conn.tokens.get());
  FP_RETURN_IF_ERROR(client.Connect());
  std::string id = schema_id;
  if (id.empty()) {
    FP_ASSIGN_OR_RETURN(auto info, client.GetTopic(topic));
    id = info.schema_id();
  }
  FP_ASSIGN_OR_RETURN(auto schema, client.Schema(id));
  out << "{\"schema_id\":" << JsonString(schema->id) << ",\"schema\":" << schema->json << "}\n";
  return Status::Ok();
}

Status RunPublish(Connection conn, const std::string& topic, std::istream& in, std::ostream& out) {
  PubSubClient client(conn.client, conn.tokens.get());
  FP_RETURN_IF_ERROR(client.Connect());
  FP_ASSIGN_OR_RETURN(auto info, client.GetTopic(topic));
  if (!info.can_publish())
    return Status::PermissionDenied("topic " + topic + " does not accept publishing");
  FP_ASSIGN_OR_RETURN(auto schema, client.Schema(info.schema_id()));
  auto token = conn.tokens->Get();
  if (!token.ok()) return token.status();

  grpc::ClientContext ctx;
  PubSubClient::Authorize(&ctx, *token);
  auto stream = client.stub().PublishStream(&ctx);
  size_t failures = 0;
  uint64_t seq = 0;
  std::string line;
  int line_no = 0;
  bool eof = false;
  while (!eof) {
    eventbus::v1::PublishRequest req;
    req.set_topic_name(topic);
    size_t bytes = 0;
    while (req.events_size() < 200 && bytes < 3'000'000) {
      if (!std::getline(in, line)) {
        eof = true;
        break;
      }
      ++line_no;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      auto value = avro::ValueFromJson(*schema->schema, line);
      std::string payload;
      Status enc = value.ok() ? avro::Encode(*schema->schema, *value, &payload) : value.status();
      if (!enc.ok()) {
        ++failures;
        out << "{\"line\":" << line_no << ",\"error\":" << JsonString(enc.message()) << "}\n";
        continue;
      }
      auto* ev = req.add_events();
      ev->set_id("fp-" + std::to_string(++seq));
      ev->set_schema_id(schema->id);
      ev->set_payload(std::move(payload));
      bytes += ev->payload().size();
    }
    if (req.events_size() == 0) continue;
    if (!stream->Write(req)) break;
    eventbus::v1::PublishResponse resp;
    if (!stream->Read(&resp)) break;
    for (const auto& r : resp.results()) {
      if (r.replay_id().empty()) {
        ++failures;
        out << "{\"correlation_key\":" << JsonString(r.correlation_key())
            << ",\"error\":" << JsonString(r.has_error() ? r.error().msg() : "not published")
            << "}\n";
      } else {
        out << "{\"correlation_key\":" << JsonString(r.correlation_key())
            << ",\"replay_id\":" << JsonString(Base64Encode(r.replay_id())) << "}\n";
      }
    }
  }
  stream->WritesDone();
  grpc::Status st = stream->Finish();
  FP_RETURN_IF_ERROR(FromGrpc(st, ctx, "PublishStream " + topic));
  if (failures)
    return Status::InvalidArgument(std::to_string(failures) + " event(s) were not published");
  return Status::Ok();
}

}  // namespace forcepipe::pubsub
