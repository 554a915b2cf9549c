#pragma once

// RS256 JSON Web Tokens for the OAuth 2.0 JWT bearer flow (RFC 7523), signed with
// OpenSSL EVP from a PEM private key (PKCS#1 "RSA PRIVATE KEY" or PKCS#8 "PRIVATE KEY").
//
// Thread safety: a JwtSigner is immutable after Create(); Sign() may run concurrently.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/base64.h"
#include "core/status.h"

namespace forcepipe::salesforce {

struct JwtClaims {
  std::string iss;  // the connected app's client_id
  std::string sub;  // the username
  std::string aud;  // https://login.salesforce.com, https://test.salesforce.com or My Domain
  int64_t exp = 0;  // seconds since the epoch
};

class JwtSigner {
 public:
  // Loads the key. Errors never quote the PEM.
  static Result<std::unique_ptr<JwtSigner>> Create(const std::string& private_key_pem);
  ~JwtSigner();
  JwtSigner(const JwtSigner&) = delete;
  JwtSigner& operator=(const JwtSigner&) = delete;

  // header.claims.signature, header {"alg":"RS256","typ":"JWT"}.
  Result<std::string> Sign(const JwtClaims& claims) const;

 private:
  explicit JwtSigner(void* key) : key_(key) {}
  void* key_;  // EVP_PKEY*
};

}  // namespace forcepipe::salesforce
