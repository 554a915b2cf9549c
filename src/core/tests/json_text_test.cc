// core/json_text against reference implementations: simdjson's UTF-8
// validator for IsValidUtf8 (exhaustive over 1-3 byte sequences, sampled over
// 4-byte ones, random strings), nlohmann-json's strict parser for the escaped
// text.

#include "core/json_text.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <nlohmann/json.hpp>
#include <random>
#include <string>

namespace forcepipe::json {
namespace {

bool Reference(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

TEST(JsonText, IsValidUtf8AgreesWithSimdjsonOnEveryShortSequence) {
  std::string s;
  for (int a = 0; a < 256; ++a) {
    s.assign(1, static_cast<char>(a));
    ASSERT_EQ(IsValidUtf8(s), Reference(s)) << a;
    for (int b = 0; b < 256; ++b) {
      s.assign({static_cast<char>(a), static_cast<char>(b)});
      ASSERT_EQ(IsValidUtf8(s), Reference(s)) << a << " " << b;
    }
  }
  for (int a = 0xE0; a <= 0xEF; ++a) {
    for (int b = 0; b < 256; ++b) {
      for (int c = 0; c < 256; ++c) {
        s.assign({static_cast<char>(a), static_cast<char>(b), static_cast<char>(c)});
        ASSERT_EQ(IsValidUtf8(s), Reference(s)) << a << " " << b << " " << c;
      }
    }
  }
  const int edges[] = {0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF};
  for (int a = 0xF0; a <= 0xFF; ++a) {
    for (int b = 0; b < 256; ++b) {
      for (int c : edges) {
        for (int d : edges) {
          s.assign({static_cast<char>(a), static_cast<char>(b), static_cast<char>(c),
                    static_cast<char>(d)});
          ASSERT_EQ(IsValidUtf8(s), Reference(s)) << a << " " << b << " " << c << " " << d;
        }
      }
    }
  }
}

// Random strings mixing ASCII, valid multi-byte characters and stray bytes.
std::string RandomText(std::mt19937_64& rng) {
  static const char* kPieces[] = {"a",
                                  "\"",
                                  "\\",
                                  "\n",
                                  "\x01",
                                  "\x1f",
                                  "\x7f",
                                  "\xc3\xa9",
                                  "\xe2\x82\xac",
                                  "\xf0\x9f\x98\x80",
                                  "\xed\xa0\x80",
                                  "\xc0\xaf",
                                  "\xf4\x90\x80\x80",
                                  "\xe2\x82",
                                  "\xff",
                                  "\x80",
                                  " ",
                                  "z"};
  std::string s;
  const size_t n = rng() % 40;
  for (size_t i = 0; i < n; ++i) s += kPieces[rng() % std::size(kPieces)];
  return s;
}

TEST(JsonText, RandomStringsAgreeWithSimdjsonAndEscapeToValidJson) {
  std::mt19937_64 rng(7);
  for (int iter = 0; iter < 50000; ++iter) {
    const std::string text = RandomText(rng);
    ASSERT_EQ(IsValidUtf8(text), Reference(text));
    std::string out;
    AppendString(&out, text);
    auto parsed = nlohmann::json::parse(out, nullptr, /*allow_exceptions=*/false);
    ASSERT_FALSE(parsed.is_discarded()) << out;
    const std::string back = parsed.get<std::string>();
    if (IsValidUtf8(text)) {
      ASSERT_EQ(back, text) << out;  // valid text survives unchanged
    } else {
      ASSERT_TRUE(IsValidUtf8(back));
      ASSERT_NE(back.find("\xEF\xBF\xBD"), std::string::npos) << out;
    }
  }
}

TEST(JsonText, EscapesUseTheShortFormsWhereJsonHasThem) {
  std::string out;
  AppendEscaped(&out, std::string("a\"b\\c\nd\x01\b\f\r\t\x7f", 13));
  EXPECT_EQ(out, "a\\\"b\\\\c\\nd\\u0001\\b\\f\\r\\t\x7f");
  out.clear();
  AppendEscaped(&out, "0123456789abcdef\xff");  // a stray byte after two plain words
  EXPECT_EQ(out, "0123456789abcdef\xEF\xBF\xBD");
}

}  // namespace
}  // namespace forcepipe::json
