#include "salesforce/auth/jwt.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <nlohmann/json.hpp>

#include "core/base64.h"

namespace forcepipe::salesforce {

Result<std::unique_ptr<JwtSigner>> JwtSigner::Create(const std::string& private_key_pem) {
  BIO* bio = BIO_new_mem_buf(private_key_pem.data(), static_cast<int>(private_key_pem.size()));
  if (!bio) return Status::Internal("BIO_new_mem_buf failed");
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  ERR_clear_error();
  if (!key) {
    return Status::InvalidArgument(
        "private_key is not an unencrypted PEM private key (PKCS#8 or PKCS#1 RSA)");
  }
  if (EVP_PKEY_base_id(key) != EVP_PKEY_RSA) {
    EVP_PKEY_free(key);
    return Status::InvalidArgument("private_key must be an RSA key (RS256)");
  }
  return std::unique_ptr<JwtSigner>(new JwtSigner(key));
}

JwtSigner::~JwtSigner() { EVP_PKEY_free(static_cast<EVP_PKEY*>(key_)); }

Result<std::string> JwtSigner::Sign(const JwtClaims& claims) const {
  nlohmann::json payload = {
      {"iss", claims.iss}, {"sub", claims.sub}, {"aud", claims.aud}, {"exp", claims.exp}};
  std::string input = Base64UrlEncode(R"({"alg":"RS256","typ":"JWT"})");
  input.push_back('.');
  input += Base64UrlEncode(payload.dump());
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (!ctx) return Status::Internal("EVP_MD_CTX_new failed");
  size_t sig_len = 0;
  std::string sig;
  bool ok =
      EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, static_cast<EVP_PKEY*>(key_)) == 1 &&
      EVP_DigestSign(ctx, nullptr, &sig_len, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size()) == 1;
  if (ok) {
    sig.resize(sig_len);
    ok = EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &sig_len,
                        reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
    sig.resize(sig_len);
  }
  EVP_MD_CTX_free(ctx);
  ERR_clear_error();
  if (!ok) return Status::Internal("RS256 signing failed");
  input.push_back('.');
  input += Base64UrlEncode(sig);
  return input;
}

}  // namespace forcepipe::salesforce
