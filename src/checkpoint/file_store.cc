#include "checkpoint/file_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "checkpoint/commit_logic.h"
#include "core/base64.h"
#include "core/json_text.h"

namespace forcepipe {
namespace {

constexpr std::string_view kFormat = "forcepipe-checkpoints";
constexpr int kVersion = 1;

std::string ErrnoText(int err) { return std::strerror(err); }

// The "checksum" field: FNV-1a 64 over the compact, key-sorted rendering of
// {"checkpoints":...,"epoch":...}, so any edit of a position or the epoch is
// detected while reformatting the file is not. Catches hand edits and damage,
// not an adversary (who can recompute it).
constexpr std::string_view kChecksumPrefix = "fnv1a64:";

std::string ContentChecksum(const nlohmann::json& checkpoints, const nlohmann::json& epoch) {
  nlohmann::json canonical = {{"checkpoints", checkpoints}, {"epoch", epoch}};
  const std::string text = canonical.dump();
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return std::string(kChecksumPrefix) + buf;
}

Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IOError(ErrnoText(errno));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

// Reads the whole file; nullopt when it does not exist.
Result<std::optional<std::string>> ReadWholeFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<std::string>();
    return Status::IOError("cannot open checkpoint file " + path + ": " + ErrnoText(errno));
  }
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return Status::IOError("cannot read checkpoint file " + path + ": " + ErrnoText(err));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return std::optional<std::string>(std::move(out));
}

std::string ParentDir(const std::string& path) {
  std::filesystem::path p(path);
  auto parent = p.parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

// The pid recorded in a lock file, for the "held by" message.
std::string LockHolder(int fd) {
  char buf[32] = {};
  ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return "";
  std::string s(buf, static_cast<size_t>(n));
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  for (char c : s) {
    if (c < '0' || c > '9') return "";
  }
  return s;
}

}  // namespace

Result<std::string> FileCheckpointStore::Serialize(const CheckpointMap& values, uint64_t epoch) {
  try {
    nlohmann::ordered_json doc;
    doc["format"] = kFormat;
    doc["version"] = kVersion;
    doc["epoch"] = epoch;
    nlohmann::ordered_json cps = nlohmann::ordered_json::object();
    for (const auto& [key, value] : values) {
      if (!json::IsValidUtf8(key)) {
        return Status::InvalidArgument("checkpoint key \"" + checkpoint::PrintableKey(key) +
                                       "\" is not valid UTF-8; the file store needs UTF-8 keys");
      }
      if (json::IsValidUtf8(value)) {
        cps[key] = value;
      } else {
        cps[key] = {{"base64", Base64Encode(value)}};
      }
    }
    doc["checksum"] = ContentChecksum(nlohmann::json::parse(cps.dump()), nlohmann::json(epoch));
    doc["checkpoints"] = std::move(cps);
    std::string out = doc.dump(1);
    out.push_back('\n');
    return out;
  } catch (const std::exception& e) {
    return Status::Internal(std::string("cannot serialise checkpoints: ") + e.what());
  }
}

Result<FileCheckpointStore::Contents> FileCheckpointStore::Parse(std::string_view text,
                                                                 const std::string& what) {
  auto corrupt = [&](const std::string& why) {
    return Status::Corruption(
        "checkpoint file " + what + " is corrupt (" + why +
        "); refusing to start rather than lose stream positions: restore the file from a backup, "
        "or move it away to start every stream from its configured start position");
  };
  if (text.empty()) return corrupt("the file is empty");
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    return corrupt(std::string("not valid JSON: ") + e.what());
  }
  if (!doc.is_object()) return corrupt("the document is not a JSON object");
  auto fmt = doc.find("format");
  if (fmt == doc.end() || !fmt->is_string() || fmt->get<std::string>() != kFormat) {
    return corrupt("\"format\" is not \"forcepipe-checkpoints\"");
  }
  auto ver = doc.find("version");
  if (ver == doc.end() || !ver->is_number_integer()) return corrupt("\"version\" is missing");
  if (ver->get<int64_t>() != kVersion) {
    return Status::FailedPrecondition("checkpoint file " + what + " has format version " +
                                      std::to_string(ver->get<int64_t>()) +
                                      ", this build reads version " + std::to_string(kVersion));
  }
  Contents out;
  auto ep = doc.find("epoch");
  if (ep == doc.end() || !ep->is_number_unsigned()) {
    return corrupt("\"epoch\" is not an unsigned integer");
  }
  out.epoch = ep->get<uint64_t>();
  auto cps = doc.find("checkpoints");
  if (cps == doc.end() || !cps->is_object()) return corrupt("\"checkpoints\" is not an object");
  // Files written before the checksum existed have none: read them (the next
  // commit adds it). A present checksum must match.
  auto sum = doc.find("checksum");
  if (sum != doc.end()) {
    if (!sum->is_string()) return corrupt("\"checksum\" is not a string");
    const std::string want = ContentChecksum(*cps, *ep);
    if (sum->get<std::string>() != want) {
      return corrupt("checksum mismatch: the file says " + sum->get<std::string>().substr(0, 40) +
                     " but its content hashes to " + want +
                     " — it was edited or damaged; to change a position use `forcepipe state "
                     "set`");
    }
  }
  for (const auto& [key, v] : cps->items()) {
    if (v.is_string()) {
      out.values.emplace(key, v.get<std::string>());
    } else if (v.is_object() && v.size() == 1 && v.contains("base64") && v["base64"].is_string()) {
      auto decoded = Base64Decode(v["base64"].get<std::string>());
      if (!decoded) return corrupt("bad base64 value for key \"" + key + "\"");
      out.values.emplace(key, std::move(*decoded));
    } else {
      return corrupt("the value of key \"" + key + "\" is neither a string nor {\"base64\":...}");
    }
  }
  return out;
}

Result<std::unique_ptr<FileCheckpointStore>> FileCheckpointStore::Open(const std::string& path) {
  if (path.empty()) return Status::InvalidArgument("checkpoint file path is empty");
  const std::string dir = ParentDir(path);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return Status::IOError("cannot create directory " + dir + " for checkpoint file " + path +
                           ": " + ec.message());
  }

  const std::string lock_path = path + ".lock";
  int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd < 0) {
    return Status::IOError("cannot open lock file " + lock_path + " for checkpoint file " + path +
                           ": " + ErrnoText(errno));
  }
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    std::string holder = err == EWOULDBLOCK ? LockHolder(lock_fd) : "";
    ::close(lock_fd);
    if (err == EWOULDBLOCK) {
      return Status::FailedPrecondition(
          "checkpoint file " + path + " is in use by another forcepipe instance (lock file " +
          lock_path + " is held" + (holder.empty() ? "" : " by pid " + holder) +
          "); only one instance may own a checkpoint file");
    }
    return Status::IOError("cannot lock " + lock_path + " for checkpoint file " + path + ": " +
                           ErrnoText(err));
  }
  // Record the owner for the message above; best effort.
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(lock_fd, 0) == 0) {
    (void)!::pwrite(lock_fd, pid.data(), pid.size(), 0);
  }

  auto fail = [&](Status s) {
    ::close(lock_fd);
    return s;
  };
  int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) {
    return fail(Status::IOError("cannot open directory " + dir + " of checkpoint file " + path +
                                ": " + ErrnoText(errno)));
  }
  auto fail2 = [&](Status s) {
    ::close(dir_fd);
    return fail(std::move(s));
  };

  auto text = ReadWholeFile(path);
  if (!text.ok()) return fail2(text.status());
  Contents contents;
  if (text->has_value()) {
    auto parsed = Parse(**text, path);
    if (!parsed.ok()) return fail2(parsed.status());
    contents = std::move(parsed).value();
  }
  // A temp file left by a crash mid-commit holds a commit that never returned.
  ::unlink((path + ".tmp").c_str());
  return std::unique_ptr<FileCheckpointStore>(
      new FileCheckpointStore(path, lock_fd, dir_fd, std::move(contents)));
}

FileCheckpointStore::FileCheckpointStore(std::string path, int lock_fd, int dir_fd,
                                         Contents contents)
    : path_(std::move(path)),
      lock_path_(path_ + ".lock"),
      tmp_path_(path_ + ".tmp"),
      lock_fd_(lock_fd),
      dir_fd_(dir_fd),
      values_(std::move(contents.values)),
      max_epoch_(contents.epoch) {}

FileCheckpointStore::~FileCheckpointStore() {
  ::close(dir_fd_);
  ::close(lock_fd_);  // releases the flock
}

Result<std::optional<std::string>> FileCheckpointStore::Load(std::string_view key) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = values_.find(key);
  if (it == values_.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

Result<CheckpointMap> FileCheckpointStore::LoadAll() {
  std::lock_guard<std::mutex> l(mu_);
  return values_;
}

uint64_t FileCheckpointStore::epoch() const {
  std::lock_guard<std::mutex> l(mu_);
  return max_epoch_;
}

Status FileCheckpointStore::Commit(const CommitRequest& request) {
  std::lock_guard<std::mutex> l(mu_);
  FP_RETURN_IF_ERROR(
      checkpoint::CheckCommit(request, values_, max_epoch_, "checkpoint file " + path_));
  CheckpointMap next = values_;
  uint64_t next_epoch = max_epoch_;
  checkpoint::ApplyCommit(request, next, next_epoch);
  FP_ASSIGN_OR_RETURN(std::string doc, Serialize(next, next_epoch));

  auto io_error = [&](const std::string& what, int err) {
    return Status::IOError("cannot commit checkpoint file " + path_ + ": " + what + ": " +
                           ErrnoText(err));
  };
  int fd = ::open(tmp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("open " + tmp_path_, errno);
  Status w = WriteAll(fd, doc);
  if (!w.ok()) {
    ::close(fd);
    ::unlink(tmp_path_.c_str());
    return Status::IOError("cannot commit checkpoint file " + path_ + ": write " + tmp_path_ +
                           ": " + w.message());
  }
  if (::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    ::unlink(tmp_path_.c_str());
    return io_error("fsync " + tmp_path_, err);
  }
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp_path_.c_str());
    return io_error("close " + tmp_path_, err);
  }
  if (::rename(tmp_path_.c_str(), path_.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp_path_.c_str());
    return io_error("rename " + tmp_path_, err);
  }
  if (::fsync(dir_fd_) != 0) return io_error("fsync directory", errno);
  values_ = std::move(next);
  max_epoch_ = next_epoch;
  return Status::Ok();
}

}  // namespace forcepipe
