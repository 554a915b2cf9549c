#include "checkpoint/commit_logic.h"

#include <algorithm>
#include <set>

namespace forcepipe::checkpoint {

std::string PrintableKey(std::string_view key) {
  static constexpr size_t kMax = 200;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < key.size() && i < kMax; ++i) {
    unsigned char c = static_cast<unsigned char>(key[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  if (key.size() > kMax) out += "...";
  return out;
}

Status CheckRequestShape(const CommitRequest& request) {
  for (const auto& [key, _] : request.set) {
    if (key.empty()) return Status::InvalidArgument("checkpoint commit sets an empty key");
  }
  for (const auto& key : request.erase) {
    if (key.empty()) return Status::InvalidArgument("checkpoint commit erases an empty key");
    if (request.set.count(key) != 0) {
      return Status::InvalidArgument("checkpoint commit both sets and erases key \"" +
                                     PrintableKey(key) + "\"");
    }
  }
  return Status::Ok();
}

Status CheckCommit(const CommitRequest& request, const CheckpointMap& current, uint64_t max_epoch,
                   std::string_view store) {
  FP_RETURN_IF_ERROR(CheckRequestShape(request));
  if (request.epoch < max_epoch) {
    return Status::Fenced(std::string(store) + ": commit with epoch " +
                          std::to_string(request.epoch) + " is fenced by epoch " +
                          std::to_string(max_epoch));
  }
  for (const auto& [key, want] : request.expect) {
    auto it = current.find(key);
    bool matches =
        want.has_value() ? (it != current.end() && it->second == *want) : (it == current.end());
    if (!matches) {
      return Status::Conflict(std::string(store) + ": key \"" + PrintableKey(key) +
                              (want.has_value() ? "\" does not hold the expected value"
                                                : "\" was expected to be absent"));
    }
  }
  return Status::Ok();
}

void ApplyCommit(const CommitRequest& request, CheckpointMap& current, uint64_t& max_epoch) {
  for (const auto& key : request.erase) {
    auto it = current.find(key);
    if (it != current.end()) current.erase(it);
  }
  for (const auto& [key, value] : request.set) current[key] = value;
  max_epoch = std::max(max_epoch, request.epoch);
}

}  // namespace forcepipe::checkpoint
