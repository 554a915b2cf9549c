#include "core/dead_letter.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/json_text.h"
#include "core/log.h"

namespace forcepipe {
namespace {

Status Errno(const std::string& path, const char* what, int err) {
  return Status::Unavailable("dead-letter file " + path + ": " + what + ": " + std::strerror(err));
}

// Best effort: after a failed write, cut the file back to its old size so a
// retry does not follow a partial line.
void DropPartialLine(int fd, off_t size) {
  if (::ftruncate(fd, size) != 0) return;
}

}  // namespace

Status DeadLetterWriter::Append(std::initializer_list<Field> fields) {
  if (path_.empty()) return Status::Ok();
  std::string line = "{";
  bool first = true;
  for (const Field& f : fields) {
    if (!first) line += ',';
    first = false;
    json::AppendString(&line, f.name);
    line += ':';
    if (f.number) {
      line += f.value;
    } else {
      json::AppendString(&line, log::Redact(f.value));
    }
  }
  line += "}\n";
  std::lock_guard<std::mutex> l(mu_);
  Status s = Write(line);
  if (s.ok()) {
    written_.fetch_add(1);
  } else {
    failures_.fetch_add(1);
  }
  return s;
}

Status DeadLetterWriter::Write(const std::string& line) {
  const std::filesystem::path path(path_);
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : ".";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);  // an error shows at open
  struct stat st {};
  const bool existed = ::stat(path_.c_str(), &st) == 0;
  int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) return Errno(path_, "open", errno);
  struct stat before {};
  if (::fstat(fd, &before) != 0) {
    int e = errno;
    ::close(fd);
    return Errno(path_, "stat", e);
  }
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = n < 0 ? errno : EIO;
      // No partial line: a retry appends the whole line again.
      DropPartialLine(fd, before.st_size);
      ::close(fd);
      return Errno(path_, "write", e);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int e = errno;
    DropPartialLine(fd, before.st_size);
    ::close(fd);
    return Errno(path_, "fsync", e);
  }
  if (::close(fd) != 0) return Errno(path_, "close", errno);
  if (!existed) {
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return Errno(dir.string(), "open directory", errno);
    int rc = ::fsync(dfd);
    int e = errno;
    ::close(dfd);
    if (rc != 0) return Errno(dir.string(), "fsync directory", e);
  }
  return Status::Ok();
}

}  // namespace forcepipe
