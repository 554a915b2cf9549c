#pragma once

// DeadLetterWriter: the one writer of dead-letter files (the engine's
// data_dir/dead-letters.jsonl, the Pub/Sub source's undecodable events).
//
// Contract: Append writes one JSON line and returns OK only once the line is
// durable (written in full and fsynced; a new file's directory entry too).
// On any failure (directory missing and not creatable, read-only, disk full)
// it returns an error naming the file and leaves no partial line behind, so
// the caller must not treat the entry as handled: it keeps the position
// before the entry and tries again later. Every string value passes through
// log::Redact before it is escaped, so no registered secret reaches the file
// in any spelling the redactor knows.
//
// Thread safety: Append may be called from any thread (one mutex per writer).

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>

#include "core/status.h"

namespace forcepipe {

class DeadLetterWriter {
 public:
  struct Field {
    std::string_view name;
    std::string_view value;
    bool number = false;  // `value` is written unquoted (it must be a JSON number)
  };

  // `path` "" disables the writer: Append then returns OK and writes nothing.
  explicit DeadLetterWriter(std::string path) : path_(std::move(path)) {}

  Status Append(std::initializer_list<Field> fields);

  const std::string& path() const { return path_; }
  bool enabled() const { return !path_.empty(); }
  uint64_t written() const { return written_.load(); }
  uint64_t failures() const { return failures_.load(); }

 private:
  Status Write(const std::string& line);

  const std::string path_;
  std::mutex mu_;
  std::atomic<uint64_t> written_{0};
  std::atomic<uint64_t> failures_{0};
};

}  // namespace forcepipe
