#include "emulator/util.h"

#include <openssl/rand.h>
#include <openssl/sha.h>

#include <mutex>

namespace forcepipe::emulator {

std::string EncodeReplayId(uint64_t id) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(id & 0xff);
    id >>= 8;
  }
  return out;
}

std::optional<uint64_t> DecodeReplayId(std::string_view bytes) {
  if (bytes.size() != 8) return std::nullopt;
  uint64_t v = 0;
  for (unsigned char c : bytes) v = (v << 8) | c;
  return v;
}

namespace {
std::mt19937_64& SharedRng(std::unique_lock<std::mutex>& lock) {
  static std::mutex mu;
  static std::mt19937_64 rng = [] {
    uint64_t seed = 0;
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&seed), sizeof(seed)) != 1) {
      seed = std::random_device{}();
    }
    return std::mt19937_64(seed);
  }();
  lock = std::unique_lock<std::mutex>(mu);
  return rng;
}

std::string FormatUuid(uint64_t hi, uint64_t lo) {
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
  static const char* kHex = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (int i = 15; i >= 0; --i) {
    s.push_back(kHex[(hi >> (i * 4)) & 0xf]);
    if (i == 8 || i == 4) s.push_back('-');
  }
  s.push_back('-');
  for (int i = 15; i >= 0; --i) {
    s.push_back(kHex[(lo >> (i * 4)) & 0xf]);
    if (i == 12) s.push_back('-');
  }
  return s;
}
}  // namespace

std::string UuidFrom(std::mt19937_64& rng) {
  uint64_t hi = rng();
  uint64_t lo = rng();
  return FormatUuid(hi, lo);
}

std::string RandomUuid() {
  std::unique_lock<std::mutex> lock;
  auto& rng = SharedRng(lock);
  return UuidFrom(rng);
}

std::string RandomToken(size_t n) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string out(n, 'A');
  unsigned char buf[256];
  size_t i = 0;
  while (i < n) {
    size_t chunk = std::min(n - i, sizeof(buf));
    if (RAND_bytes(buf, static_cast<int>(chunk)) != 1) {
      std::unique_lock<std::mutex> lock;
      auto& rng = SharedRng(lock);
      for (size_t j = 0; j < chunk; ++j) buf[j] = static_cast<unsigned char>(rng());
    }
    for (size_t j = 0; j < chunk; ++j) out[i + j] = kAlphabet[buf[j] % 62];
    i += chunk;
  }
  return out;
}

std::string HexEncode(std::string_view data) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (unsigned char c : data) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(md), sizeof(md)));
}

}  // namespace forcepipe::emulator
