#include "salesforce/auth/auth_config.h"

#include <chrono>

namespace forcepipe::salesforce {

using config::Option;
using config::OptionTable;
using config::OptionType;

const OptionTable& AuthOptionTable() {
  static const OptionTable kTable = [] {
    OptionTable t;
    auto add = [&t](std::string key, OptionType type, std::string def,
                    std::string desc) -> Option& {
      Option o;
      o.key = std::move(key);
      o.type = type;
      o.default_value = std::move(def);
      o.description = std::move(desc);
      t.push_back(std::move(o));
      return t.back();
    };
    add("flow", OptionType::kString, "jwt",
        "OAuth flow: jwt (JWT bearer, RS256), client_credentials, password (password + "
        "security token), refresh_token, or static (a given access token)")
        .choices = {"jwt", "client_credentials", "password", "refresh_token", "static"};
    add("login_url", OptionType::kString, "https://login.salesforce.com",
        "token endpoint base: https://login.salesforce.com, https://test.salesforce.com or your "
        "My Domain URL");
    add("audience", OptionType::kString, "", "jwt: the `aud` claim (default: login_url)").example =
        "https://login.salesforce.com";
    add("client_id", OptionType::kString, "", "connected app consumer key").example = "3MVG9...";
    add("client_secret", OptionType::kSecret, "", "connected app consumer secret").example = "...";
    add("username", OptionType::kString, "", "jwt and password flows: the Salesforce username")
        .example = "integration@acme.example.com";
    add("password", OptionType::kSecret, "", "password flow: the user's password").example = "...";
    add("security_token", OptionType::kSecret, "",
        "password flow: the user's security token (appended to password)")
        .example = "...";
    add("private_key", OptionType::kSecret, "",
        "jwt flow: PEM RSA private key of the connected app's certificate")
        .example = "-----BEGIN PRIVATE KEY-----...";
    add("refresh_token", OptionType::kSecret, "", "refresh_token flow: the refresh token").example =
        "...";
    add("access_token", OptionType::kSecret, "",
        "static flow: an access token / session id (never re-minted)")
        .example = "00D...!AQ...";
    add("instance_url", OptionType::kString, "",
        "static flow: the org's instance URL (other flows learn it from the token response)")
        .example = "https://acme.my.salesforce.com";
    add("org_id", OptionType::kString, "", "static flow: the 18-character org id").example =
        "00D5e000000abcdEAA";
    Option& ttl = add("token_ttl", OptionType::kDuration, "1h",
                      "assumed access token lifetime (Salesforce sends none; set to the org's "
                      "session timeout); the token is re-minted at 90% of it");
    ttl.min = 10;
    add("ca_file", OptionType::kString, "",
        "PEM CA bundle for the token endpoint and userinfo (default: system CAs)")
        .example = "/etc/ssl/certs/ca-certificates.crt";
    add("insecure_skip_verify", OptionType::kBool, "false",
        "disable TLS certificate verification (local emulator only; prefer ca_file)");
    Option& timeout = add("timeout", OptionType::kDuration, "30s", "HTTP request timeout");
    timeout.min = 0.1;
    return t;
  }();
  return kTable;
}

Result<AuthConfig> AuthConfigFromNode(const config::Node& node, const Clock* clock) {
  AuthConfig c;
  const std::string flow = node.GetString("flow");
  if (flow == "jwt") {
    c.flow = AuthFlow::kJwt;
  } else if (flow == "client_credentials") {
    c.flow = AuthFlow::kClientCredentials;
  } else if (flow == "password") {
    c.flow = AuthFlow::kPassword;
  } else if (flow == "refresh_token") {
    c.flow = AuthFlow::kRefreshToken;
  } else if (flow == "static") {
    c.flow = AuthFlow::kStatic;
  } else {
    return Status::InvalidArgument(node.PathOf("flow") + ": unknown flow `" + flow + "`");
  }
  if (node.Has("login_url")) c.login_url = node.GetString("login_url");
  c.audience = node.GetString("audience");
  c.client_id = node.GetString("client_id");
  c.client_secret = node.GetString("client_secret");
  c.username = node.GetString("username");
  c.password = node.GetString("password");
  c.security_token = node.GetString("security_token");
  c.private_key_pem = node.GetString("private_key");
  if (!c.private_key_pem.empty() && c.private_key_pem.back() != '\n') c.private_key_pem += '\n';
  c.refresh_token = node.GetString("refresh_token");
  c.access_token = node.GetString("access_token");
  c.instance_url = node.GetString("instance_url");
  c.org_id = node.GetString("org_id");
  if (node.Has("token_ttl")) c.token_ttl = node.GetDuration("token_ttl");
  c.ca_file = node.GetString("ca_file");
  if (node.Has("insecure_skip_verify"))
    c.insecure_skip_verify = node.GetBool("insecure_skip_verify");
  if (node.Has("timeout")) c.timeout = node.GetDuration("timeout");
  c.clock = clock;
  return c;
}

Result<std::unique_ptr<TokenProvider>> MakeTokenProvider(const config::Node& node,
                                                         const Clock* clock) {
  FP_ASSIGN_OR_RETURN(AuthConfig c, AuthConfigFromNode(node, clock));
  auto p = NewTokenProvider(std::move(c));
  if (!p.ok()) return p.status().WithContext(node.path());
  return p;
}

}  // namespace forcepipe::salesforce
