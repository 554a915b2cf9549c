#include "config/loader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <vector>

#include "config/node.h"

namespace forcepipe::config {

namespace {

// Bounds the walk below when aliases make a small file a huge tree.
constexpr size_t kMaxNodes = 1'000'000;

std::string LineOf(const YAML::Node& n) {
  return n.Mark().line >= 0 ? std::to_string(n.Mark().line + 1) : "?";
}

// Refuses duplicate and non-scalar keys anywhere in the tree. Reports the
// first problem in document order.
Status CheckKeys(const YAML::Node& root, const std::string& name) {
  struct Item {
    YAML::Node node;
    std::string path;
  };
  std::vector<Item> stack{{root, ""}};
  size_t visited = 0;
  while (!stack.empty()) {
    Item item = std::move(stack.back());
    stack.pop_back();
    if (++visited > kMaxNodes) {
      return Status::InvalidArgument(name + ": more than " + std::to_string(kMaxNodes) +
                                     " values (aliases that expand too far?)");
    }
    std::vector<Item> children;
    if (item.node.IsMap()) {
      std::map<std::string, std::string> first_line;
      for (const auto& kv : item.node) {
        std::string where = name + ":" + LineOf(kv.first) + ": ";
        std::string prefix = item.path.empty() ? "" : item.path + ".";
        if (!kv.first.IsScalar()) {
          return Status::InvalidArgument(where + (item.path.empty() ? "the config" : item.path) +
                                         ": a key must be a plain string");
        }
        const std::string& key = kv.first.Scalar();
        std::string path = prefix + EscapeForMessage(key);
        auto [it, inserted] = first_line.emplace(key, LineOf(kv.first));
        if (!inserted) {
          return Status::InvalidArgument(where + path + ": duplicate key " + QuoteForMessage(key) +
                                         " (first at line " + it->second + ")");
        }
        children.push_back({kv.second, std::move(path)});
      }
    } else if (item.node.IsSequence()) {
      for (size_t i = 0; i < item.node.size(); ++i) {
        children.push_back({item.node[i], item.path + "[" + std::to_string(i) + "]"});
      }
    }
    for (auto it = children.rbegin(); it != children.rend(); ++it) stack.push_back(std::move(*it));
  }
  return Status::Ok();
}

std::string FormatBytes(size_t n) {
  if (n >= (1u << 20) && n % (1u << 20) == 0) return std::to_string(n >> 20) + " MiB";
  if (n >= (1u << 10) && n % (1u << 10) == 0) return std::to_string(n >> 10) + " KiB";
  return std::to_string(n) + " bytes";
}

std::string KindOf(mode_t m) {
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  if (S_ISSOCK(m)) return "a socket";
  if (S_ISFIFO(m)) return "a pipe";
  return "a special file";
}

}  // namespace

Result<std::string> ReadFileBounded(const std::string& path, size_t max_bytes, bool allow_pipe) {
  const std::string shown = EscapeForMessage(path);
  auto check = [&](const struct stat& st) -> Status {
    if (S_ISDIR(st.st_mode)) return Status::InvalidArgument(shown + ": is a directory");
    if (!S_ISREG(st.st_mode) && !(allow_pipe && S_ISFIFO(st.st_mode))) {
      return Status::InvalidArgument(shown + ": not a regular file (" + KindOf(st.st_mode) + ")");
    }
    if (S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) > max_bytes) {
      return Status::InvalidArgument(shown + ": larger than the " + FormatBytes(max_bytes) +
                                     " limit");
    }
    return Status::Ok();
  };
  // stat before open: opening a device can have effects, a pipe blocks.
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    int err = errno;
    std::string m = shown + ": " + std::strerror(err);
    return err == ENOENT ? Status::NotFound(m) : Status::IOError(m);
  }
  FP_RETURN_IF_ERROR(check(st));
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return Status::IOError(shown + ": " + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  if (::fstat(fd, &st) != 0) return Status::IOError(shown + ": " + std::strerror(errno));
  FP_RETURN_IF_ERROR(check(st));  // it may have been swapped since the stat
  std::string out;
  char buf[64 * 1024];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IOError(shown + ": " + std::strerror(errno));
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > max_bytes) {
      return Status::InvalidArgument(shown + ": larger than the " + FormatBytes(max_bytes) +
                                     " limit");
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Result<YAML::Node> ParseYaml(std::string_view text, const std::string& name) {
  YAML::Node n;
  try {
    n = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    std::string msg = name;
    if (e.mark.line >= 0) {
      msg += ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1);
    }
    return Status::InvalidArgument(msg + ": invalid YAML: " + e.msg);
  }
  FP_RETURN_IF_ERROR(CheckKeys(n, name));
  return n;
}

Result<YAML::Node> LoadYamlFile(const std::string& path) {
  auto text = ReadFileBounded(path, kMaxConfigFileBytes, /*allow_pipe=*/true);
  if (!text.ok())
    return Status::InvalidArgument("cannot read config file " + text.status().message());
  return ParseYaml(*text, path);
}

}  // namespace forcepipe::config
