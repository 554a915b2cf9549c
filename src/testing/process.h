#pragma once

// Helpers for process tests: temp dirs, child processes, and reading files.

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace forcepipe::testing {

// A fresh directory under $TMPDIR, removed when the object dies (unless
// FORCEPIPE_KEEP_TEMP is set).
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A child process with stdout/stderr redirected to files.
class Child {
 public:
  // Starts `argv` (argv[0] is the program path).
  static Child Spawn(const std::vector<std::string>& argv, const std::string& stdout_path,
                     const std::string& stderr_path);
  Child() = default;
  Child(Child&& o) noexcept : pid_(o.pid_) { o.pid_ = -1; }
  Child& operator=(Child&& o) noexcept;
  ~Child();

  pid_t pid() const { return pid_; }
  void Signal(int sig) const;
  // Waits for exit up to `timeout`; returns the raw wait status, or -1 on timeout.
  int Wait(std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
};

// Path of the forcepipe binary under test ($FORCEPIPE_BINARY).
std::string ForcepipeBinary();
std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& content);
// Size of a file, 0 when missing.
size_t FileSize(const std::string& path);
// A loopback TCP port that was just bound and released: nothing listens there,
// so connecting is refused. Returns 0 when no port could be bound.
int ClosedLoopbackPort();

}  // namespace forcepipe::testing
