// The "loki" sink kind: option table and config -> LokiSinkOptions.

#include "config/node.h"
#include "config/options.h"
#include "sinks/loki/loki_sink.h"

namespace forcepipe {
namespace {

using config::Option;
using config::OptionTable;
using config::OptionType;

const OptionTable& LokiOptions() {
  static const OptionTable table = [] {
    OptionTable t;
    auto add = [&](Option o) { t.push_back(std::move(o)); };
    add({.key = "url",
         .type = OptionType::kString,
         .description = "Loki base URL; /loki/api/v1/push is appended",
         .required = true,
         .example = "http://localhost:3100"});
    add({.key = "tenant",
         .type = OptionType::kString,
         .description = "X-Scope-OrgID for entries whose org has no entry in `tenants`; "
                        "unset = no header",
         .example = "security"});
    add({.key = "tenants",
         .type = OptionType::kStringMap,
         .description = "sf_org_id (or org) label value -> tenant; one request per tenant",
         .example = "{00D000000000001: acme}"});
    add({.key = "encoding",
         .type = OptionType::kString,
         .default_value = "protobuf",
         .description = "protobuf (snappy-compressed, fastest) or json (debugging)",
         .choices = {"protobuf", "json"}});
    add({.key = "compression",
         .type = OptionType::kString,
         .default_value = "none",
         .description = "json only: none or gzip (protobuf is always snappy)",
         .choices = {"none", "gzip"}});
    add({.key = "labels",
         .type = OptionType::kStringMap,
         .description = "static stream labels; names from job, service_name, sf_org_id, "
                        "environment, org (never source/event_type)",
         .example = "{environment: prod}"});
    add({.key = "username",
         .type = OptionType::kString,
         .description = "Basic auth user (with password)"});
    add({.key = "password",
         .type = OptionType::kSecret,
         .description = "Basic auth password (or password_file)"});
    add({.key = "bearer_token",
         .type = OptionType::kSecret,
         .description = "Authorization: Bearer token (or bearer_token_file)"});
    add({.key = "ca_file",
         .type = OptionType::kString,
         .description = "PEM CA bundle to verify the server; default: system CAs"});
    add({.key = "insecure_skip_verify",
         .type = OptionType::kBool,
         .default_value = "false",
         .description = "disable TLS certificate verification (testing only)"});
    add({.key = "timeout",
         .type = OptionType::kDuration,
         .default_value = "10s",
         .description = "whole-request timeout",
         .min = 0.001});
    add({.key = "connect_timeout",
         .type = OptionType::kDuration,
         .default_value = "5s",
         .description = "TCP/TLS connect timeout",
         .min = 0.001});
    add({.key = "headers",
         .type = OptionType::kStringMap,
         .description = "extra HTTP headers (values are never logged)"});
    add({.key = "max_line_bytes",
         .type = OptionType::kSize,
         .default_value = "256KiB",
         .description = "longer lines are cut on a UTF-8 boundary and marked ...[truncated]",
         .min = 64});
    add({.key = "max_request_bytes",
         .type = OptionType::kSize,
         .default_value = "3MiB",
         .description = "uncompressed request size above which a batch is split "
                        "(Loki's internal limit is 4MiB)",
         .min = 1024});
    add({.key = "max_streams_warn",
         .type = OptionType::kInt,
         .default_value = "1000",
         .description = "warn when more streams than this were active in the last hour",
         .min = 1});
    add({.key = "max_retry_after",
         .type = OptionType::kDuration,
         .default_value = "5m",
         .description = "cap on a server's Retry-After",
         .min = 0});
    return t;
  }();
  return table;
}

Result<std::unique_ptr<Sink>> CreateLokiSink(const config::Node& node, const FactoryContext& ctx) {
  LokiSinkOptions o;
  o.url = node.GetString("url");
  if (node.Has("tenant")) o.tenant = node.GetString("tenant");
  if (node.Has("tenants")) o.tenants = node.GetStringMap("tenants");
  bool json = node.GetString("encoding") == "json";
  o.encoder.encoding = json ? loki::Encoding::kJson : loki::Encoding::kProtobuf;
  bool gzip = node.GetString("compression") == "gzip";
  if (gzip && !json) {
    return Status::InvalidArgument(node.PathOf("compression") +
                                   ": gzip applies to encoding: json only (protobuf is snappy)");
  }
  o.encoder.json_compression = gzip ? loki::Compression::kGzip : loki::Compression::kNone;
  o.encoder.max_line_bytes = node.GetSize("max_line_bytes");
  if (node.Has("labels")) o.static_labels = node.GetStringMap("labels");
  if (node.Has("username")) o.http.username = node.GetString("username");
  if (node.Has("password")) o.http.password = node.GetString("password");
  if (node.Has("bearer_token")) o.http.bearer_token = node.GetString("bearer_token");
  if (node.Has("ca_file")) o.http.ca_file = node.GetString("ca_file");
  o.http.insecure_skip_verify = node.GetBool("insecure_skip_verify");
  o.http.timeout = node.GetDuration("timeout");
  o.http.connect_timeout = node.GetDuration("connect_timeout");
  if (node.Has("headers")) o.http.headers = node.GetStringMap("headers");
  o.max_request_bytes = node.GetSize("max_request_bytes");
  o.max_streams_warn = size_t(node.GetInt("max_streams_warn"));
  o.max_retry_after = node.GetDuration("max_retry_after");
  auto sink = LokiSink::Create(std::move(o), ctx.clock);
  if (!sink.ok()) return sink.status().WithContext(node.path());
  return std::unique_ptr<Sink>(std::move(sink).value());
}

}  // namespace

SinkFactory LokiSinkFactory() {
  return SinkFactory{
      .kind = "loki",
      .description = "Grafana Loki push API (protobuf+snappy or JSON[+gzip]) over HTTP(S)",
      .options = &LokiOptions(),
      .create = CreateLokiSink,
  };
}

}  // namespace forcepipe
