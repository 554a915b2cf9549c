// core/base64 against OpenSSL's EVP_EncodeBlock / EVP_DecodeBlock.

#include "core/base64.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <random>
#include <string>

namespace forcepipe {
namespace {

std::string OpenSslEncode(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

// OpenSSL's decoder returns whole 3-byte groups, padding bytes included.
std::optional<std::string> OpenSslDecode(const std::string& text) {
  std::string out(3 * text.size() / 4 + 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  size_t pad = 0;
  if (!text.empty() && text.back() == '=') ++pad;
  if (text.size() > 1 && text[text.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

TEST(Base64, EncodingEqualsOpenSslAndRoundTripsEveryLength) {
  std::mt19937_64 rng(3);
  for (size_t n = 0; n < 200; ++n) {
    for (int rep = 0; rep < 20; ++rep) {
      std::string bytes(n, '\0');
      for (auto& c : bytes) c = static_cast<char>(rng());
      const std::string enc = Base64Encode(bytes);
      ASSERT_EQ(enc, OpenSslEncode(bytes)) << n;
      ASSERT_EQ(Base64Decode(enc), bytes) << enc;
      std::string url = enc;
      while (!url.empty() && url.back() == '=') url.pop_back();
      for (char& c : url) c = c == '+' ? '-' : c == '/' ? '_' : c;
      ASSERT_EQ(Base64UrlEncode(bytes), url);
      ASSERT_EQ(Base64UrlDecode(url), bytes) << url;
      ASSERT_EQ(Base64UrlDecode(url + std::string((4 - url.size() % 4) % 4, '=')), bytes);
    }
  }
}

TEST(Base64, DecodingAcceptsWhatOpenSslAcceptsOnTheStrictForm) {
  // Random texts of whole quads over the alphabet, '=' only at the end, and
  // some stray characters: whatever either side accepts, both decode alike.
  static const std::string kChars =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::mt19937_64 rng(5);
  int accepted = 0, refused = 0;
  for (int iter = 0; iter < 100000; ++iter) {
    std::string text(4 * (rng() % 6), 'A');
    for (auto& c : text) c = kChars[rng() % kChars.size()];
    const size_t pad = text.empty() ? 0 : rng() % 3;
    for (size_t k = 0; k < pad; ++k) text[text.size() - 1 - k] = '=';
    if (!text.empty() && rng() % 4 == 0) text[rng() % text.size()] = "$-_ =\n"[rng() % 6];
    auto ours = Base64Decode(text);
    auto theirs = OpenSslDecode(text);
    // OpenSSL tolerates some whitespace and mid-text '='; we are strict, so we
    // may refuse more, never accept more or decode differently.
    if (ours) {
      ASSERT_TRUE(theirs.has_value()) << text;
      ASSERT_EQ(*ours, *theirs) << text;
      ++accepted;
    } else {
      ++refused;
    }
  }
  EXPECT_GT(accepted, 10000);
  EXPECT_GT(refused, 10000);
  EXPECT_FALSE(Base64Decode("abc"));
  EXPECT_FALSE(Base64Decode("ab$="));
  EXPECT_FALSE(Base64Decode("a==="));
  EXPECT_FALSE(Base64UrlDecode("a"));
  EXPECT_FALSE(Base64UrlDecode("ab+/"));
}

}  // namespace
}  // namespace forcepipe
