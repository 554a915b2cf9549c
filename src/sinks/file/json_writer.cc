#include "sinks/file/json_writer.h"

#include "core/json_text.h"

namespace forcepipe::file_sink {
namespace {

// Days since 1970-01-01 -> civil date (Howard Hinnant's algorithm).
void CivilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
}

void AppendDigits(std::string& out, uint64_t v, int width) {
  char buf[20];
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  out.append(buf, static_cast<size_t>(width));
}

void AppendLabelObject(std::string& out, const std::vector<Label>* labels) {
  out.push_back('{');
  if (labels != nullptr) {
    bool first = true;
    for (const auto& l : *labels) {
      if (!first) out.push_back(',');
      first = false;
      AppendJsonString(out, l.name);
      out.push_back(':');
      AppendJsonString(out, l.value);
    }
  }
  out.push_back('}');
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view s) { json::AppendString(&out, s); }

void AppendRfc3339Nanos(std::string& out, int64_t unix_nanos) {
  constexpr int64_t kNanosPerSecond = 1'000'000'000;
  constexpr int64_t kSecondsPerDay = 86'400;
  int64_t secs = unix_nanos / kNanosPerSecond;
  int64_t nanos = unix_nanos % kNanosPerSecond;
  if (nanos < 0) {
    nanos += kNanosPerSecond;
    --secs;
  }
  int64_t days = secs / kSecondsPerDay;
  int64_t sod = secs % kSecondsPerDay;
  if (sod < 0) {
    sod += kSecondsPerDay;
    --days;
  }
  int64_t year;
  unsigned month, day;
  CivilFromDays(days, year, month, day);
  if (year < 0) {
    out.push_back('-');
    AppendDigits(out, static_cast<uint64_t>(-year), 4);
  } else {
    AppendDigits(out, static_cast<uint64_t>(year), year > 9999 ? 5 : 4);
  }
  out.push_back('-');
  AppendDigits(out, month, 2);
  out.push_back('-');
  AppendDigits(out, day, 2);
  out.push_back('T');
  AppendDigits(out, static_cast<uint64_t>(sod / 3600), 2);
  out.push_back(':');
  AppendDigits(out, static_cast<uint64_t>(sod / 60 % 60), 2);
  out.push_back(':');
  AppendDigits(out, static_cast<uint64_t>(sod % 60), 2);
  out.push_back('.');
  AppendDigits(out, static_cast<uint64_t>(nanos), 9);
  out.push_back('Z');
}

void AppendEntryJson(std::string& out, const Entry& entry) {
  out += "{\"ts\":\"";
  AppendRfc3339Nanos(out, entry.timestamp_ns);
  out += "\",\"labels\":";
  AppendLabelObject(out, entry.labels.get());
  out += ",\"metadata\":";
  AppendLabelObject(out, &entry.structured_metadata);
  out += ",\"objects\":[";
  bool first = true;
  for (const auto& o : entry.objects) {
    if (!first) out.push_back(',');
    first = false;
    out += "{\"type\":";
    AppendJsonString(out, o.type);
    out += ",\"id\":";
    AppendJsonString(out, o.id);
    out.push_back('}');
  }
  out += "],\"line\":";
  AppendJsonString(out, entry.line);
  out += "}\n";
}

}  // namespace forcepipe::file_sink
