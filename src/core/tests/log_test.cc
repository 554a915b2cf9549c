#include "core/log.h"

#include <gtest/gtest.h>

#include <string>

#include "core/base64.h"

namespace forcepipe::log {
namespace {

// The registry is process-wide: every test registers its own secrets.

TEST(Redact, ReplacesEveryRegisteredSecret) {
  RegisterSecret("s3cr3t-token-value");
  RegisterSecret("abc");  // too short: ignored
  EXPECT_EQ(Redact("token=s3cr3t-token-value and again s3cr3t-token-value"),
            "token=*** and again ***");
  EXPECT_EQ(Redact("abc stays"), "abc stays");
}

TEST(Redact, LeavesTextWithoutSecretsUnchanged) {
  RegisterSecret("unrelated-Secret-0000");
  const std::string text = "plain % text + with \\ escapes %41 and \\u0041 and base64 QUJD==";
  EXPECT_EQ(Redact(text), text);
  EXPECT_EQ(Redact(""), "");
}

TEST(Redact, HidesBase64InBothAlphabetsWithAndWithoutPadding) {
  // Bytes whose encodings use '+' and '/' (standard) and '-' and '_' (URL-safe).
  const std::string secret = "B64\xfb\xff\xbe-secret-12";
  RegisterSecret(secret);
  const std::string std_padded = Base64Encode(secret);
  const std::string url = Base64UrlEncode(secret);
  ASSERT_NE(std_padded.find_first_of("+/"), std::string::npos);
  ASSERT_EQ(std_padded.back(), '=');
  for (const std::string& form : {std_padded, std_padded.substr(0, std_padded.find('=')), url,
                                  url + std::string(std_padded.size() - url.size(), '=')}) {
    EXPECT_EQ(Redact("x=" + form + " y"), "x=*** y") << form;
  }
}

TEST(Redact, HidesSecretInsideLongerBase64AtEveryAlignment) {
  // Basic credentials: base64("user:password") where only the password is
  // registered. The user name's length puts the password at each alignment.
  const std::string password = "BasicPassw0rd-XYZ";
  RegisterSecret(password);
  for (const std::string user : {"ab", "abc", "abcd"}) {
    const std::string header = "Authorization=Basic " + Base64Encode(user + ":" + password);
    const std::string r = Redact(header);
    const size_t star = r.find("***");
    ASSERT_NE(star, std::string::npos) << header;
    // What is left are the characters carrying bits of the user name, and at
    // most one partial character plus padding after the password.
    EXPECT_LE(star, std::string("Authorization=Basic ").size() + (8 * (user.size() + 1) + 5) / 6)
        << r;
    EXPECT_LE(r.size() - (star + 3), 3u) << r;
  }
}

TEST(Redact, HidesPercentAndFormEncodedSpellings) {
  RegisterSecret("ABC+DE/1=");
  EXPECT_EQ(Redact("client_secret=ABC%2BDE%2F1%3D&x=1"), "client_secret=***&x=1");
  EXPECT_EQ(Redact("client_secret=ABC%2bDE%2f1%3d&x=1"), "client_secret=***&x=1");
  EXPECT_EQ(Redact("client_secret=%41%42%43%2BDE/1%3d"), "client_secret=***");
  RegisterSecret("pass word!x");
  EXPECT_EQ(Redact("password=pass+word%21x&grant_type=password"),
            "password=***&grant_type=password");
  EXPECT_EQ(Redact("password=pass%20word!x"), "password=***");
}

TEST(Redact, HidesJsonEscapedSpellings) {
  RegisterSecret("quo\"te\\back/sl\tX");
  EXPECT_EQ(Redact(R"({"secret":"quo\"te\\back/sl\tX"})"), R"({"secret":"***"})");
  EXPECT_EQ(Redact(R"({"secret":"quo\u0022te\\back\/sl\u0009X"})"), R"({"secret":"***"})");
  RegisterSecret("caf\xc3\xa9-\xf0\x9f\x94\x91-key");  // é and U+1F511
  EXPECT_EQ(Redact(R"(k="caf\u00e9-\ud83d\udd11-key")"), "k=\"***\"");
}

TEST(Redact, HidesPercentEncodedBase64) {
  const std::string secret = "B64-in-URL\xfb\xef-key";
  RegisterSecret(secret);
  std::string encoded;
  for (char c : Base64Encode(secret)) {
    if (c == '+')
      encoded += "%2B";
    else if (c == '/')
      encoded += "%2F";
    else if (c == '=')
      encoded += "%3D";
    else
      encoded += c;
  }
  ASSERT_NE(encoded.find('%'), std::string::npos);
  EXPECT_EQ(Redact("auth=" + encoded), "auth=***");
}

TEST(Redact, OverlappingSecretsLeaveNoFragment) {
  RegisterSecret("zzabcd");
  RegisterSecret("abcdXYZW");
  EXPECT_EQ(Redact("[zzabcdXYZW]"), "[***]");
}

}  // namespace
}  // namespace forcepipe::log
