#pragma once

// Base64 (RFC 4648): the standard alphabet with padding (replay ids in
// checkpoints, Pub/Sub payloads, HTTP Basic credentials) and the URL-safe
// alphabet without padding (JWT segments, Avro schema ids). One
// implementation for the whole project, tested against OpenSSL's
// EVP_EncodeBlock / EVP_DecodeBlock (core/tests/base64_test.cc).

#include <optional>
#include <string>
#include <string_view>

namespace forcepipe {

// Standard alphabet, '=' padding.
std::string Base64Encode(std::string_view bytes);
// URL-safe alphabet ('-', '_'), no padding.
std::string Base64UrlEncode(std::string_view bytes);

// Strict standard base64: length a multiple of 4, '=' only as the last one or
// two characters, nothing else outside the alphabet. nullopt otherwise.
std::optional<std::string> Base64Decode(std::string_view text);
// URL-safe base64; padding optional. nullopt on any other character or a
// dangling single character.
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace forcepipe
