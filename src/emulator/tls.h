#pragma once

// Self-signed TLS material for the emulator, generated with OpenSSL at start: an EC P-256
// key and an X.509 v3 certificate (CA:TRUE, so the certificate itself is the trust root a
// client passes as its CA file) for localhost, 127.0.0.1 and ::1.
//
// Thread safety: free functions, safe from any thread.

#include <string>

#include "core/status.h"

namespace forcepipe::emulator {

struct TlsMaterial {
  std::string cert_pem;
  std::string key_pem;
  std::string cert_file;  // paths once written
  std::string key_file;
};

// Generates a fresh self-signed certificate valid for `days` days.
Result<TlsMaterial> GenerateSelfSignedCert(int days = 30);
// Reads a cert/key pair from files.
Result<TlsMaterial> LoadTlsFiles(const std::string& cert_file, const std::string& key_file);

Result<std::string> ReadFile(const std::string& path);

}  // namespace forcepipe::emulator
