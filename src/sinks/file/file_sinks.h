#pragma once

// File sinks: JSON lines to a file (`jsonl`) or to standard output (`stdout`).
//
//   sinks:
//     out:
//       type: jsonl
//       path: /var/lib/forcepipe/events.jsonl   # parent directories are created
//       format: json                            # json (default) | line
//       fsync: true                             # fdatasync after every batch
//
// format json writes one object per entry (see file_sink::AppendEntryJson):
//   {"ts":"2023-11-14T22:13:20.000000000Z","labels":{..},"metadata":{..},
//    "objects":[{"type":"Account","id":"001.."}],"line":"<the line, as a string>"}
// format line writes each entry's line as is, followed by '\n'.
//
// Delivery: Push formats the whole batch into a reused buffer and appends it
// with write(2) (in chunks of at most 1 MiB), then fdatasyncs when `fsync` is
// on, and returns Ok only after that. A failed open, write or sync returns
// Retryable naming the file and the errno text; the file is first truncated
// back to its size before the batch (best effort) so a retried batch does not
// follow a torn line, and the file is reopened on the next push.
//
// Thread safety: Push calls are serialised internally (max_in_flight 1).
// Lifecycle: Start opens (a failure there is a startup error), Push appends,
// Stop syncs and closes.

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "config/registry.h"
#include "core/sink.h"

namespace forcepipe {

enum class FileSinkFormat { kJson, kLine };

// Counters, for tests and metrics.
struct FileSinkStats {
  uint64_t batches = 0;  // pushes that returned Ok
  uint64_t entries = 0;
  uint64_t bytes = 0;   // bytes appended by successful pushes
  uint64_t syncs = 0;   // fdatasync calls that succeeded
  uint64_t errors = 0;  // pushes that returned Retryable
};

class JsonlSink : public Sink {
 public:
  struct Options {
    std::string path;
    FileSinkFormat format = FileSinkFormat::kJson;
    bool fsync = true;
  };
  explicit JsonlSink(Options options);
  ~JsonlSink() override;
  JsonlSink(const JsonlSink&) = delete;
  JsonlSink& operator=(const JsonlSink&) = delete;

  std::string_view kind() const override { return "jsonl"; }
  // Creates parent directories and opens the file for appending. Errors name
  // the file.
  Status Start() override;
  PushOutcome Push(const Batch& batch) override;
  void Stop() override;

  FileSinkStats stats() const;
  const std::string& path() const { return options_.path; }

 private:
  Status OpenLocked();            // REQUIRES: mu_ held
  Status RepairTornTailLocked();  // REQUIRES: mu_ held

  const Options options_;
  mutable std::mutex mu_;
  int fd_ = -1;
  std::string buffer_;  // reused between pushes
  FileSinkStats stats_;
};

class StdoutSink : public Sink {
 public:
  struct Options {
    FileSinkFormat format = FileSinkFormat::kJson;
    int fd = 1;  // not owned; tests pass a pipe
  };
  explicit StdoutSink(Options options);

  std::string_view kind() const override { return "stdout"; }
  // Writes the batch with write(2) straight to the descriptor (no stdio
  // buffering), so each batch is flushed when Push returns Ok.
  PushOutcome Push(const Batch& batch) override;

  FileSinkStats stats() const;

 private:
  const Options options_;
  mutable std::mutex mu_;
  std::string buffer_;
  FileSinkStats stats_;
};

// kind "jsonl": options path (required), format (json|line), fsync (bool).
SinkFactory JsonlSinkFactory();
// kind "stdout": option format (json|line).
SinkFactory StdoutSinkFactory();

}  // namespace forcepipe
