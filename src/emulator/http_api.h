#pragma once

// HttpApi: the emulator's HTTP(S) server (cpp-httplib): Salesforce OAuth/REST endpoints and
// the admin API. Routes (all JSON):
//
//   OAuth / REST (Salesforce shapes)
//     POST /services/oauth2/token      jwt-bearer, client_credentials, password, refresh_token
//     GET  /services/oauth2/userinfo   Authorization: Bearer <access token>
//     POST /services/oauth2/revoke     token=<access or refresh token>
//     GET  /services/data              API versions (no auth)
//     GET  /services/data/vNN.N/sobjects[/]  describeGlobal (Bearer; see sobjects.h)
//   Admin (Authorization: Bearer <admin token>; loopback clients only) — see README.md
//     GET  /admin/topics, /admin/streams, /admin/ledger[?topic=], /admin/managed-subscriptions
//     POST /admin/publish, /admin/generator/{pause,resume,rate}, /admin/tokens,
//          /admin/faults/{fail-next,expire-tokens,reset-streams,stall,schema-change,
//          undecodable,gap}, /admin/clock/advance, /admin/managed-subscriptions
//
// Threads: one listener thread plus cpp-httplib's worker pool.
// Lifecycle: Start() binds and serves; Stop() stops and joins. Secrets are never logged.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "core/status.h"

namespace httplib {
class Server;
}

namespace forcepipe::emulator {

class Emulator;

class HttpApi {
 public:
  // `emulator` must outlive this object.
  explicit HttpApi(Emulator* emulator);
  ~HttpApi();

  // Binds `listen` ("host:port", port 0 = any) with TLS when cert/key files are given.
  // Returns the bound port.
  Result<int> Start(const std::string& listen, const std::string& cert_file,
                    const std::string& key_file);
  void Stop();

 private:
  void Routes();

  Emulator* emu_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::atomic<uint64_t> rest_calls_{0};  // authenticated REST calls (Sforce-Limit-Info)
};

// Parses an application/x-www-form-urlencoded body (also a query string).
std::multimap<std::string, std::string> ParseForm(const std::string& body);

// Splits "host:port"; IPv6 hosts may be bracketed ("[::1]:0").
Result<std::pair<std::string, int>> SplitHostPort(const std::string& listen);

}  // namespace forcepipe::emulator
