#include "salesforce/auth/jwt.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <nlohmann/json.hpp>

namespace forcepipe::salesforce {

std::string Base64UrlEncode(std::string_view data) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(data[k])); };
  for (; i + 3 <= data.size(); i += 3) {
    uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  if (data.size() - i == 1) {
    uint32_t v = byte(i) << 16;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
  } else if (data.size() - i == 2) {
    uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
  }
  return out;
}

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
