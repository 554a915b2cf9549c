#include "sinks/file/file_sinks.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/log.h"
#include "sinks/file/json_writer.h"

namespace forcepipe {
namespace {

constexpr size_t kChunk = 1 << 20;  // write when the buffer reaches this

std::string ErrnoText(int err) { return std::strerror(err); }

// Writes all of `data`; returns 0 or the errno.
int WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return 0;
}

void AppendEntry(std::string& out, const Entry& e, FileSinkFormat format) {
  if (format == FileSinkFormat::kJson) {
    file_sink::AppendEntryJson(out, e);
  } else {
    out += e.line;
    out.push_back('\n');
  }
}

// Formats `batch` into `buffer` and writes it to `fd` in chunks. Returns 0 or
// the errno of the failed write; `written` counts bytes written.
int FormatAndWrite(int fd, const Batch& batch, FileSinkFormat format, std::string& buffer,
                   uint64_t& written) {
  buffer.clear();
  written = 0;
  for (const Entry& e : batch.entries) {
    AppendEntry(buffer, e, format);
    if (buffer.size() >= kChunk) {
      if (int err = WriteAll(fd, buffer)) return err;
      written += buffer.size();
      buffer.clear();
    }
  }
  if (!buffer.empty()) {
    if (int err = WriteAll(fd, buffer)) return err;
    written += buffer.size();
  }
  // Keep the buffer's capacity for the next batch, but not a giant one.
  if (buffer.capacity() > 4 * kChunk) std::string().swap(buffer);
  return 0;
}

Result<FileSinkFormat> ParseFormat(const std::string& s) {
  if (s == "json") return FileSinkFormat::kJson;
  if (s == "line") return FileSinkFormat::kLine;
  return Status::InvalidArgument("format must be json or line, got \"" + s + "\"");
}

const config::Option kFormatOption{
    .key = "format",
    .type = config::OptionType::kString,
    .default_value = "json",
    .description =
        "json: one JSON object per entry (ts, labels, metadata, objects, line); "
        "line: the entry's line only",
    .choices = {"json", "line"},
};

const config::OptionTable& JsonlOptions() {
  static const config::OptionTable table = {
      {.key = "path",
       .type = config::OptionType::kString,
       .description = "file to append to; parent directories are created",
       .required = true,
       .example = "/var/lib/forcepipe/events.jsonl"},
      kFormatOption,
      {.key = "fsync",
       .type = config::OptionType::kBool,
       .default_value = "true",
       .description = "fdatasync after every batch, before the checkpoint may move"},
  };
  return table;
}

const config::OptionTable& StdoutOptions() {
  static const config::OptionTable table = {kFormatOption};
  return table;
}

}  // namespace

JsonlSink::JsonlSink(Options options) : options_(std::move(options)) {}

JsonlSink::~JsonlSink() {
  if (fd_ >= 0) ::close(fd_);
}

Status JsonlSink::OpenLocked() {
  if (fd_ >= 0) return Status::Ok();
  if (options_.path.empty()) return Status::InvalidArgument("jsonl sink: path is empty");
  auto parent = std::filesystem::path(options_.path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      return Status::IOError("jsonl sink: cannot create directory " + parent.string() + " for " +
                             options_.path + ": " + ec.message());
    }
  }
  int fd = ::open(options_.path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Status::IOError("jsonl sink: cannot open " + options_.path + ": " + ErrnoText(errno));
  }
  fd_ = fd;
  return RepairTornTailLocked();
}

// A process killed in the middle of write(2) can leave a partial last line
// (Linux returns a short write when a fatal signal is pending). That line was
// never acknowledged, so it will be sent again; cut it off so the next batch
// does not merge with it into one unparsable line.
Status JsonlSink::RepairTornTailLocked() {
  struct stat st;
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) return Status::Ok();
  int rfd = ::open(options_.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (rfd < 0)
    return Status::IOError("jsonl sink: cannot read " + options_.path + ": " + ErrnoText(errno));
  off_t end = st.st_size;
  off_t keep = -1;
  char buf[65536];
  while (end > 0 && keep < 0) {
    off_t start = end > static_cast<off_t>(sizeof(buf)) ? end - static_cast<off_t>(sizeof(buf)) : 0;
    ssize_t n = ::pread(rfd, buf, static_cast<size_t>(end - start), start);
    if (n <= 0) break;
    for (ssize_t i = n - 1; i >= 0; --i) {
      if (buf[i] == '\n') {
        keep = start + i + 1;
        break;
      }
    }
    end = start;
  }
  ::close(rfd);
  if (keep < 0) keep = 0;  // no newline at all: the whole file is one torn line
  if (keep == st.st_size) return Status::Ok();
  if (::ftruncate(fd_, keep) != 0) {
    return Status::IOError("jsonl sink: cannot cut the torn last line of " + options_.path + ": " +
                           ErrnoText(errno));
  }
  log::Get("sink.jsonl")
      ->warn(
          "{}: removed a torn last line ({} bytes) left by an interrupted write; it will be "
          "written again",
          options_.path, static_cast<long long>(st.st_size - keep));
  return Status::Ok();
}

Status JsonlSink::Start() {
  std::lock_guard<std::mutex> l(mu_);
  return OpenLocked();
}

PushOutcome JsonlSink::Push(const Batch& batch) {
  std::lock_guard<std::mutex> l(mu_);
  if (Status s = OpenLocked(); !s.ok()) {
    ++stats_.errors;
    return PushOutcome::Retryable(s.message());
  }
  // Where this batch starts, to cut a torn tail off after a failed write.
  struct stat st {};
  const bool regular = ::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode);
  const off_t start = regular ? st.st_size : 0;

  uint64_t written = 0;
  int err = FormatAndWrite(fd_, batch, options_.format, buffer_, written);
  const char* step = "write";
  if (err == 0 && options_.fsync) {
    if (::fdatasync(fd_) != 0) {
      err = errno;
      step = "fdatasync";
    } else {
      ++stats_.syncs;
    }
  }
  if (err != 0) {
    if (regular) (void)!::ftruncate(fd_, start);  // also cuts a partial write
    ::close(fd_);
    fd_ = -1;
    ++stats_.errors;
    return PushOutcome::Retryable("jsonl sink: cannot " + std::string(step) + " " + options_.path +
                                  ": " + ErrnoText(err));
  }
  ++stats_.batches;
  stats_.entries += batch.entries.size();
  stats_.bytes += written;
  return PushOutcome::Ok();
}

void JsonlSink::Stop() {
  std::lock_guard<std::mutex> l(mu_);
  if (fd_ < 0) return;
  ::fdatasync(fd_);
  ::close(fd_);
  fd_ = -1;
}

FileSinkStats JsonlSink::stats() const {
  std::lock_guard<std::mutex> l(mu_);
  return stats_;
}

StdoutSink::StdoutSink(Options options) : options_(options) {}

PushOutcome StdoutSink::Push(const Batch& batch) {
  std::lock_guard<std::mutex> l(mu_);
  uint64_t written = 0;
  if (int err = FormatAndWrite(options_.fd, batch, options_.format, buffer_, written)) {
    ++stats_.errors;
    return PushOutcome::Retryable("stdout sink: cannot write to standard output: " +
                                  ErrnoText(err));
  }
  ++stats_.batches;
  stats_.entries += batch.entries.size();
  stats_.bytes += written;
  return PushOutcome::Ok();
}

FileSinkStats StdoutSink::stats() const {
  std::lock_guard<std::mutex> l(mu_);
  return stats_;
}

SinkFactory JsonlSinkFactory() {
  SinkFactory f;
  f.kind = "jsonl";
  f.description = "appends JSON lines (or raw lines) to a local file";
  f.options = &JsonlOptions();
  f.create = [](const config::Node& node, const FactoryContext&) -> Result<std::unique_ptr<Sink>> {
    JsonlSink::Options o;
    o.path = node.GetString("path");
    FP_ASSIGN_OR_RETURN(o.format, ParseFormat(node.GetString("format")));
    o.fsync = node.GetBool("fsync");
    return std::unique_ptr<Sink>(std::make_unique<JsonlSink>(std::move(o)));
  };
  return f;
}

SinkFactory StdoutSinkFactory() {
  SinkFactory f;
  f.kind = "stdout";
  f.description = "writes JSON lines (or raw lines) to standard output";
  f.options = &StdoutOptions();
  f.create = [](const config::Node& node, const FactoryContext&) -> Result<std::unique_ptr<Sink>> {
    StdoutSink::Options o;
    FP_ASSIGN_OR_RETURN(o.format, ParseFormat(node.GetString("format")));
    return std::unique_ptr<Sink>(std::make_unique<StdoutSink>(o));
  };
  return f;
}

}  // namespace forcepipe
