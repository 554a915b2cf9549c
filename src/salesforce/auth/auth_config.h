#pragma once

// The `auth:` config section of a Salesforce source: option table and factory.
//
//   auth:
//     flow: jwt                     # jwt | client_credentials | password | refresh_token | static
//     login_url: https://login.salesforce.com
//     client_id: 3MVG9...
//     username: integration@acme.example.com
//     private_key_file: /etc/forcepipe/sf.key
//
// Thread safety: AuthOptionTable() is immutable; MakeTokenProvider is reentrant.

#include <memory>

#include "config/node.h"
#include "config/options.h"
#include "core/clock.h"
#include "core/status.h"
#include "salesforce/auth/token_provider.h"

namespace forcepipe::salesforce {

const config::OptionTable& AuthOptionTable();

// Converts a validated `auth:` section (validated against AuthOptionTable()).
Result<AuthConfig> AuthConfigFromNode(const config::Node& node, const Clock* clock = Clock::Real());

// AuthConfigFromNode + NewTokenProvider. `clock` must outlive the provider.
Result<std::unique_ptr<TokenProvider>> MakeTokenProvider(const config::Node& node,
                                                         const Clock* clock = Clock::Real());

}  // namespace forcepipe::salesforce
