#include "pipeline/engine.h"

#include <cstdio>
#include <fstream>

#include "core/json_text.h"
#include "core/log.h"

namespace forcepipe {

class Engine::Context final : public SourceContext {
 public:
  Context(Engine* engine, Lane* lane, SourceStatus* status)
      : engine_(engine), lane_(lane), status_(status) {}

  bool Emit(Entry entry) override {
    int64_t ts = entry.timestamp_ns;
    bool real = !entry.checkpoint_only;
    if (!lane_->Push(std::move(entry), [this] { return stopping(); })) return false;
    if (real) {
      status_->emitted.fetch_add(1, std::memory_order_relaxed);
      status_->last_event_unix_ns.store(ts, std::memory_order_relaxed);
    }
    return true;
  }
  bool stopping() const override { return engine_->stop_requested_.load(); }
  bool WaitFor(Duration d) override {
    std::unique_lock<std::mutex> l(engine_->mu_);
    engine_->clock_->WaitFor(l, engine_->cv_, d, [&] { return stopping(); });
    return !stopping();
  }
  Result<std::optional<std::string>> LoadCheckpoint(std::string_view key) override {
    return engine_->store_->Load(key);
  }
  const Clock& clock() const override { return *engine_->clock_; }
  std::string checkpoint_store_name() const override {
    return std::string(engine_->store_->kind()) + " checkpoint store";
  }
  void SetHealth(std::string_view problem) override {
    std::lock_guard<std::mutex> l(engine_->mu_);
    status_->health = std::string(problem);
  }

 private:
  Engine* engine_;
  Lane* lane_;
  SourceStatus* status_;
};

Engine::Engine(EngineOptions options, std::vector<std::unique_ptr<Source>> sources,
               std::unique_ptr<Sink> sink, std::unique_ptr<CheckpointStore> store,
               const Clock* clock, Coordinator* coordinator)
    : options_(std::move(options)),
      sources_(std::move(sources)),
      sink_(std::move(sink)),
      owned_store_(std::move(store)),
      store_(sink_->checkpoint_store() ? sink_->checkpoint_store() : owned_store_.get()),
      clock_(clock),
      coordinator_(coordinator),
      dead_letters_(options_.dead_letter_path) {
  // A transactional sink commits checkpoints itself; the tracker only orders.
  CheckpointStore* commit_to = sink_->checkpoint_store() ? nullptr : store_;
  std::function<Result<uint64_t>()> epoch;
  if (coordinator_) epoch = [c = coordinator_] { return c->Fence(); };
  streaming_tracker_ = std::make_unique<CommitTracker>(commit_to, epoch);
  bulk_tracker_ = std::make_unique<CommitTracker>(commit_to, epoch);
  auto drop = [this](const Entry& e, const std::string& why) { return OnDrop(e, why); };
  auto make_lane = [&](LaneKind kind, LaneOptions o, CommitTracker* tracker) {
    // A transactional sink writes checkpoints with the data: one push at a time
    // keeps its commits in production order.
    if (sink_->checkpoint_store()) o.max_in_flight = 1;
    o.max_in_flight = std::min(o.max_in_flight, std::max(1, sink_->max_in_flight()));
    return std::make_unique<Lane>(kind, o, sink_.get(), tracker, clock_, drop);
  };
  streaming_ = make_lane(LaneKind::kStreaming, options_.streaming, streaming_tracker_.get());
  bulk_ = make_lane(LaneKind::kBulk, options_.bulk, bulk_tracker_.get());
  for (Lane* lane : {streaming_.get(), bulk_.get()}) {
    lane->SetFatalHandler([this](const Status& why) { Fail(why); });
  }
  for (auto [tracker, kind] : {std::pair{streaming_tracker_.get(), LaneKind::kStreaming},
                               std::pair{bulk_tracker_.get(), LaneKind::kBulk}}) {
    std::vector<Source*> in_lane;
    for (auto& s : sources_) {
      if (s->lane() == kind) in_lane.push_back(s.get());
    }
    if (in_lane.empty()) continue;
    tracker->SetObserver([in_lane](const CheckpointMap& committed) {
      for (Source* s : in_lane) s->OnCommitted(committed);
    });
  }
  for (auto& s : sources_) {
    auto st = std::make_unique<SourceStatus>();
    st->name = s->name();
    st->kind = std::string(s->kind());
    st->lane = s->lane();
    Lane* lane = s->lane() == LaneKind::kStreaming ? streaming_.get() : bulk_.get();
    contexts_.push_back(std::make_unique<Context>(this, lane, st.get()));
    source_status_.push_back(std::move(st));
  }
}

Engine::~Engine() {
  RequestStop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

std::vector<MetricSample> Engine::ComponentMetrics() const {
  std::vector<MetricSample> out;
  for (const auto& s : sources_) {
    for (auto& m : s->Metrics()) {
      m.labels.insert(m.labels.begin(), Label{"source", s->name()});
      out.push_back(std::move(m));
    }
  }
  for (auto& m : sink_->Metrics()) {
    m.labels.insert(m.labels.begin(), Label{"sink", std::string(sink_->kind())});
    out.push_back(std::move(m));
  }
  return out;
}

std::pair<std::string, std::string> Engine::SourceProblems(size_t i) const {
  std::lock_guard<std::mutex> l(mu_);
  return {source_status_[i]->error, source_status_[i]->health};
}

CheckpointMap Engine::committed() const {
  CheckpointMap m = streaming_tracker_->committed();
  for (auto& [k, v] : bulk_tracker_->committed()) m[k] = v;
  return m;
}

const Lane* Engine::lane(LaneKind kind) const {
  return kind == LaneKind::kStreaming ? streaming_.get() : bulk_.get();
}

void Engine::RequestStop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_requested_ = true;
  }
  cv_.notify_all();
  if (streaming_) streaming_->WakeProducers();
  if (bulk_) bulk_->WakeProducers();
}

void Engine::RunSource(size_t index) {
  SourceStatus* st = source_status_[index].get();
  st->running = true;
  Status s = sources_[index]->Run(*contexts_[index]);
  st->running = false;
  std::lock_guard<std::mutex> l(mu_);
  if (!s.ok()) {
    st->error = s.ToString();
    log::Get("pipeline")->error("source {} failed: {}", st->name, s.ToString());
    if (first_error_.ok()) first_error_ = s.WithContext("source " + st->name);
    stop_requested_ = true;
  }
  ++sources_finished_;
  cv_.notify_all();
}

void Engine::Fail(const Status& why) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (first_error_.ok()) first_error_ = why;
  }
  RequestStop();
}

Status Engine::OnDrop(const Entry& entry, const std::string& reason) {
  const std::string ts = std::to_string(clock_->NowUnixNanos());
  return dead_letters_.Append({{"ts_ns", ts, true},
                               {"sink", sink_->kind()},
                               {"reason", reason},
                               {"key", entry.checkpoint.key},
                               {"position", entry.checkpoint.value},
                               {"line", entry.line}});
}

Status Engine::Run() {
  auto log = log::Get("pipeline");
  if (!store_) return Status::FailedPrecondition("no checkpoint store configured");
  FP_RETURN_IF_ERROR(sink_->Start().WithContext(std::string("sink ") + std::string(sink_->kind())));
  streaming_->Start();
  bulk_->Start();
  running_ = true;
  for (size_t i = 0; i < sources_.size(); ++i) threads_.emplace_back([this, i] { RunSource(i); });
  log->info("running: {} source(s) into sink {}", sources_.size(), sink_->kind());

  {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return stop_requested_.load() || sources_finished_ == sources_.size(); });
  }
  SteadyTime deadline = clock_->SteadyNow() +
                        std::chrono::duration_cast<SteadyTime::duration>(options_.shutdown_grace);
  bool all_finished;
  {
    std::lock_guard<std::mutex> l(mu_);
    all_finished = sources_finished_ == sources_.size();
  }
  if (all_finished) {
    log->info("all sources finished; draining");
  } else {
    log->info("stopping: draining within {}s",
              std::chrono::duration_cast<std::chrono::seconds>(options_.shutdown_grace).count());
  }
  RequestStop();
  for (auto& s : sources_) s->Stop();
  for (auto& t : threads_) t.join();
  threads_.clear();

  streaming_->Close();
  bulk_->Close();
  bool drained = streaming_->WaitDrained(deadline) && bulk_->WaitDrained(deadline);
  if (!drained) {
    log->warn(
        "shutdown grace expired: abandoning undelivered batches (they will be re-read on restart)");
    streaming_->Abort();
    bulk_->Abort();
  }
  streaming_->Join();
  bulk_->Join();
  for (CommitTracker* t : {streaming_tracker_.get(), bulk_tracker_.get()}) {
    Status flush = t->Flush();
    if (!flush.ok()) {
      // Positions delivered to the sink are not durable: a clean exit would
      // hide that the next start re-reads (or, with no commit at all,
      // restarts) — exit non-zero.
      log->error("final checkpoint commit failed: {}", flush.ToString());
      std::lock_guard<std::mutex> l(mu_);
      if (first_error_.ok()) first_error_ = flush.WithContext("final checkpoint commit failed");
    }
  }
  sink_->Stop();
  running_ = false;
  log->info("stopped; delivered {} entries, dropped {}",
            streaming_->stats().entries_delivered + bulk_->stats().entries_delivered,
            streaming_->stats().entries_dropped + bulk_->stats().entries_dropped);
  std::lock_guard<std::mutex> l(mu_);
  return first_error_;
}

}  // namespace forcepipe
