// The hand-written JSON writer, checked against nlohmann::json as the parser.

#include "sinks/file/json_writer.h"

#include <gtest/gtest.h>
#include <time.h>

#include <nlohmann/json.hpp>
#include <random>
#include <string>

namespace forcepipe::file_sink {
namespace {

using nlohmann::json;

std::string Quote(std::string_view s) {
  std::string out;
  AppendJsonString(out, s);
  return out;
}

// Parses the writer's output for `s` back to a string (fails the test when the
// output is not valid JSON / valid UTF-8).
std::string RoundTrip(std::string_view s) {
  const std::string out = Quote(s);
  try {
    return json::parse(out).get<std::string>();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "unparsable output " << out << ": " << e.what();
    return "<unparsable>";
  }
}

bool NlohmannAcceptsUtf8(const std::string& s) {
  try {
    (void)json(s).dump();
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

TEST(JsonWriter, EscapesEveryControlCharacterQuoteAndBackslash) {
  std::string all;
  for (int c = 0; c < 0x20; ++c) {
    std::string one(1, static_cast<char>(c));
    EXPECT_EQ(RoundTrip(one), one) << "char " << c;
    // No raw control byte may appear in the output.
    for (char o : Quote(one)) EXPECT_GE(static_cast<unsigned char>(o), 0x20u) << "char " << c;
    all += one;
  }
  all += "\"\\/\x7f";
  EXPECT_EQ(RoundTrip(all), all);
  EXPECT_EQ(Quote("a\"b\\c\n\t\x01"), "\"a\\\"b\\\\c\\n\\t\\u0001\"");
  EXPECT_EQ(Quote(std::string("\0", 1)), "\"\\u0000\"");
}

TEST(JsonWriter, KeepsValidUtf8BytesAsIs) {
  const std::string s = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbf \xf4\x8f\xbf\xbf";
  EXPECT_EQ(Quote(s), "\"" + s + "\"");
  EXPECT_EQ(RoundTrip(s), s);
}

TEST(JsonWriter, ReplacesInvalidUtf8WithReplacementCharacter) {
  const std::string r = "\xef\xbf\xbd";
  EXPECT_EQ(RoundTrip("a\xff"
                      "b"),
            "a" + r + "b");
  EXPECT_EQ(RoundTrip("\x80"), r);                          // stray continuation
  EXPECT_EQ(RoundTrip("\xc0\xaf"), r + r);                  // overlong '/'
  EXPECT_EQ(RoundTrip("\xed\xa0\x80"), r + r + r);          // UTF-16 surrogate
  EXPECT_EQ(RoundTrip("\xf4\x90\x80\x80"), r + r + r + r);  // > U+10FFFF
  EXPECT_EQ(RoundTrip("x\xe2\x82"), "x" + r + r);           // truncated at the end
  EXPECT_EQ(RoundTrip("\xe2\x82"
                      "A"),
            r + r + "A");                                           // truncated mid-string
  EXPECT_EQ(RoundTrip("\xf8\x88\x80\x80\x80"), r + r + r + r + r);  // 5-byte form
}

TEST(JsonWriter, RandomBytesAlwaysGiveValidJsonAndValidUtf8RoundTrips) {
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> len(0, 40);
  // Weighted towards the interesting bytes: controls, ASCII, UTF-8 lead and
  // continuation bytes.
  const std::string pool = std::string("\x00\x01\x1f \"\\/aZ\x7f", 11) +
                           "\x80\xbf\xc2\xc3\xdf\xe0\xe2\xed\xef\xf0\xf4\xf5\xff\xa0\x9f\x8f\x90";
  std::uniform_int_distribution<size_t> pick(0, pool.size() - 1);
  int valid = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    int n = len(rng);
    for (int k = 0; k < n; ++k) s.push_back(pool[pick(rng)]);
    std::string back = RoundTrip(s);
    if (NlohmannAcceptsUtf8(s)) {
      ++valid;
      ASSERT_EQ(back, s);
    } else {
      ASSERT_NE(back.find("\xef\xbf\xbd"), std::string::npos);
    }
  }
  EXPECT_GT(valid, 100);  // the generator exercised both branches
}

TEST(JsonWriter, Rfc3339KnownValues) {
  auto f = [](int64_t ns) {
    std::string s;
    AppendRfc3339Nanos(s, ns);
    return s;
  };
  EXPECT_EQ(f(0), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(f(1'700'000'000'123'456'789), "2023-11-14T22:13:20.123456789Z");
  EXPECT_EQ(f(-1), "1969-12-31T23:59:59.999999999Z");
  EXPECT_EQ(f(1'709'164'800'000'000'001), "2024-02-29T00:00:00.000000001Z");
  EXPECT_EQ(f(INT64_MAX), "2262-04-11T23:47:16.854775807Z");
  EXPECT_EQ(f(INT64_MIN), "1677-09-21T00:12:43.145224192Z");
}

TEST(JsonWriter, Rfc3339MatchesGmtime) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int64_t> secs(-2'000'000'000LL, 8'000'000'000LL);
  for (int i = 0; i < 5000; ++i) {
    const time_t t = static_cast<time_t>(secs(rng));
    struct tm tm {};
    ASSERT_NE(gmtime_r(&t, &tm), nullptr);
    char buf[64];
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    std::string got;
    AppendRfc3339Nanos(got, static_cast<int64_t>(t) * 1'000'000'000 + 42);
    ASSERT_EQ(got, std::string(buf) + ".000000042Z") << t;
  }
}

TEST(JsonWriter, EntryObjectRoundTripsEveryField) {
  Entry e;
  e.timestamp_ns = 1'700'000'000'000'000'007;
  e.labels = std::make_shared<LabelSet>(LabelSet{{"source", "synthetic"}, {"event_type", "x\"y"}});
  e.structured_metadata = {{"event_id", "gen-k1-1"}, {"replay_id", "AAA="}};
  e.objects = {{"Account", "001xx"}, {"Contact", "003\n"}};
  e.line = R"({"id":"gen-k1-1","key":1,"seq":1,"pad":"\u00e9"})";
  std::string out;
  AppendEntryJson(out, e);
  ASSERT_EQ(out.back(), '\n');
  ASSERT_EQ(out.find('\n'), out.size() - 1);
  json j = json::parse(out);
  EXPECT_EQ(j["ts"], "2023-11-14T22:13:20.000000007Z");
  EXPECT_EQ(j["labels"], (json{{"source", "synthetic"}, {"event_type", "x\"y"}}));
  EXPECT_EQ(j["metadata"], (json{{"event_id", "gen-k1-1"}, {"replay_id", "AAA="}}));
  ASSERT_EQ(j["objects"].size(), 2u);
  EXPECT_EQ(j["objects"][1]["type"], "Contact");
  EXPECT_EQ(j["objects"][1]["id"], "003\n");
  EXPECT_EQ(j["line"], e.line);
  std::vector<std::string> keys;
  for (auto& [k, v] : j.items()) keys.push_back(k);
  EXPECT_EQ(keys.size(), 5u);

  Entry bare;
  out.clear();
  AppendEntryJson(out, bare);
  j = json::parse(out);
  EXPECT_TRUE(j["labels"].is_object() && j["labels"].empty());
  EXPECT_TRUE(j["metadata"].is_object() && j["metadata"].empty());
  EXPECT_TRUE(j["objects"].is_array() && j["objects"].empty());
  EXPECT_EQ(j["line"], "");
}

}  // namespace
}  // namespace forcepipe::file_sink
