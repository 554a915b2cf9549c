#pragma once

// FileCheckpointStore: checkpoints in one JSON document on local disk.
//
// Durability: every Commit writes the whole document to `<path>.tmp`, fsyncs
// it, renames it over `<path>` and fsyncs the directory, so after a crash the
// file holds either the previous or the new document, never a mix. Commit
// returns only after all of that succeeded.
//
// Exclusivity: Open takes an exclusive flock(2) on `<path>.lock` (created next
// to the file, holding the owner's pid) and keeps it until the store is
// destroyed, so a second process on the same file fails at startup instead of
// both moving the same positions. The lock belongs to the open file
// description: a second Open of the same path, even in the same process, fails.
//
// Format (version 1):
//   {"format":"forcepipe-checkpoints","version":1,"epoch":<highest epoch>,
//    "checksum":"fnv1a64:<16 hex>",
//    "checkpoints":{"<key>":"<value>", "<key2>":{"base64":"<value bytes>"}, ...}}
// The checksum covers the epoch and the checkpoints (their compact, sorted
// JSON), so a file edited into another valid document is kCorruption naming
// the file. A file without "checksum" (written before it existed) is read and
// gains one at the next commit.
// Values that are not valid UTF-8 are stored base64-encoded; keys must be
// valid UTF-8 (Commit returns kInvalidArgument otherwise).
//
// A missing file is an empty store. A file that cannot be parsed or does not
// have the shape above (truncated, hand-edited, another program's file) makes
// Open fail with kCorruption naming the file; it is never silently reset.
//
// Thread safety: safe for concurrent use; commits are serialised.

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/checkpoint_store.h"
#include "core/entry.h"
#include "core/status.h"

namespace forcepipe {

class FileCheckpointStore : public CheckpointStore {
 public:
  // Creates missing parent directories, takes the lock and reads the file.
  // Errors: kFailedPrecondition when another process (or another open store)
  // holds the lock; kCorruption for a damaged file; kIOError otherwise. Every
  // message names the file.
  static Result<std::unique_ptr<FileCheckpointStore>> Open(const std::string& path);

  ~FileCheckpointStore() override;
  FileCheckpointStore(const FileCheckpointStore&) = delete;
  FileCheckpointStore& operator=(const FileCheckpointStore&) = delete;

  std::string_view kind() const override { return "file"; }
  Result<std::optional<std::string>> Load(std::string_view key) override;
  Result<CheckpointMap> LoadAll() override;
  using CheckpointStore::Commit;
  // kIOError when the file could not be written; the on-disk document is then
  // unchanged or (if only the directory fsync failed) already the new one, and
  // the in-memory view keeps the old one. Retrying is safe.
  Status Commit(const CommitRequest& request) override;

  const std::string& path() const { return path_; }
  const std::string& lock_path() const { return lock_path_; }
  uint64_t epoch() const;

  // Renders / parses the document format above. Exposed for tests and tools
  // (`forcepipe state show` can parse a file without taking the lock).
  // `what` names the file in errors.
  static Result<std::string> Serialize(const CheckpointMap& values, uint64_t epoch);
  struct Contents {
    CheckpointMap values;
    uint64_t epoch = 0;
  };
  static Result<Contents> Parse(std::string_view text, const std::string& what);

 private:
  FileCheckpointStore(std::string path, int lock_fd, int dir_fd, Contents contents);

  const std::string path_;
  const std::string lock_path_;
  const std::string tmp_path_;
  const int lock_fd_;  // holds the flock for the store's lifetime
  const int dir_fd_;   // the parent directory, for fsync after rename

  mutable std::mutex mu_;
  CheckpointMap values_;
  uint64_t max_epoch_ = 0;
};

}  // namespace forcepipe
