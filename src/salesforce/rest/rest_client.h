#pragma once

// Small Salesforce REST helpers over libcurl (salesforce/auth's HttpClient): an authenticated
// GET under /services/data/<version>/, describeGlobal, and discovery of the Real-Time Event
// Monitoring channels (`/event/<Name>EventStream`) from describeGlobal.
//
// Authentication: every request carries `Authorization: Bearer <token>` from the given
// TokenProvider. On HTTP 401 the rejected token is handed to TokenProvider::Refresh (which
// re-mints it, single-flight) and the request is retried exactly once; a second 401 (or a
// static token, which cannot be re-minted) is kUnauthenticated.
//
// Errors (Status messages name the method, the URL path — never a header — the HTTP status
// and Salesforce's errorCode/message from the `[{"message","errorCode"}]` body; transport
// errors also name the full URL, so paths must not carry secrets):
//   401 (after the one retry)                -> kUnauthenticated
//   403 REQUEST_LIMIT_EXCEEDED               -> kResourceExhausted (daily API limit)
//   403 otherwise                            -> kPermissionDenied
//   404                                      -> kNotFound
//   400 / other 4xx                          -> kInvalidArgument
//   429, 5xx, transport failures (connect, DNS, TLS, timeout), malformed 2xx bodies
//                                            -> kUnavailable (retry with backoff)
// No message ever contains the access token: it is scrubbed from every message (even when
// a server echoes it) and messages also pass through log::Redact.
//
// Thread safety: the functions are stateless and safe to call concurrently (the
// TokenProvider is thread-safe). Each call blocks for at most about 2 * target.timeout
// plus the token provider's own request time.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "salesforce/auth/token_provider.h"

namespace forcepipe::salesforce {

// The API version the REST helpers use unless told otherwise (the emulator serves 60.0-62.0).
inline constexpr std::string_view kDefaultRestApiVersion = "v62.0";

struct RestTarget {
  // https://acme.my.salesforce.com (a trailing '/' is ignored). "" = the instance_url of the
  // access token the TokenProvider returns (the usual case).
  std::string instance_url;
  // "v62.0" or "62.0" (the 'v' is added). Must be <digits>.<digits>.
  std::string api_version = std::string(kDefaultRestApiVersion);
  std::string ca_file;                          // "" = system CA bundle
  bool insecure_skip_verify = false;            // emulator only; prefer ca_file
  Duration timeout = std::chrono::seconds(30);  // per HTTP request (connect: min(this, 10s))
};

struct RestResponse {
  long status = 0;
  std::string body;
};

// GET <instance_url>/services/data/<version>/<path> (path without a leading '/', e.g.
// "sobjects/") with the bearer token, retrying once after a 401 as described above.
// Returns the 2xx response; any other status is mapped to an error Status.
Result<RestResponse> RestGet(const RestTarget& target, TokenProvider& tokens,
                             std::string_view path);

// One describeGlobal entry (the fields forcepipe uses).
struct SObjectSummary {
  std::string name;        // "LoginEventStream"
  std::string label;       // "Login Event Stream"
  std::string key_prefix;  // "" when null (most events)
  bool custom = false;
  bool queryable = false;
};

// GET /services/data/<version>/sobjects/ — every sObject of the org in the server's order.
// A 2xx body that is not a JSON object with a `sobjects` array of objects carrying a string
// `name` is kUnavailable ("malformed describeGlobal response ...").
Result<std::vector<SObjectSummary>> DescribeGlobal(const RestTarget& target, TokenProvider& tokens);
// The body parser behind DescribeGlobal (fuzzed by fuzz/rest_fuzz.cc).
Result<std::vector<SObjectSummary>> ParseDescribeGlobal(std::string_view body);

// The Pub/Sub channels of the org's Real-Time Event Monitoring streams: "/event/<name>" for
// every describeGlobal sObject whose name ends in "EventStream" (case-sensitive, as
// sf2loki), sorted and without duplicates. An org without any yields an empty vector (OK).
// Errors as DescribeGlobal.
Result<std::vector<std::string>> DiscoverEventStreamTopics(const RestTarget& target,
                                                           TokenProvider& tokens);

// The filter DiscoverEventStreamTopics applies, for callers that already hold the list.
std::vector<std::string> EventStreamTopics(const std::vector<SObjectSummary>& sobjects);

}  // namespace forcepipe::salesforce
