#pragma once

// The Pub/Sub command-line tools behind `forcepipe tail`, `forcepipe publish`
// and `forcepipe schema`. They use the same client, auth and decoding as the
// source, so what `tail` prints is exactly what a pipeline would store.

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>

#include "core/status.h"
#include "salesforce/auth/token_provider.h"
#include "sources/pubsub/pubsub_client.h"

namespace forcepipe::pubsub {

struct Connection {
  ClientOptions client;
  std::unique_ptr<salesforce::TokenProvider> tokens;
};

struct TailOptions {
  std::string topic;
  std::string from = "latest";  // earliest | latest | <replay id, base64>
  int64_t limit = 0;            // 0 = until interrupted
  int batch_size = 100;
};

// Subscribes and writes one decoded event per line to `out` until `limit`
// events or `*stop` becomes true. Returns OK at the limit or on stop.
Status RunTail(Connection conn, const TailOptions& options, std::FILE* out,
               const std::atomic<bool>* stop);

// Reads JSON lines from `in`, encodes each with the topic's current schema and
// publishes them over PublishStream in requests of at most 200 events / 3 MB;
// writes one JSON result line per event to `out`. A line that does not match
// the schema is reported (with its line number) and not sent. Returns non-OK
// when any event failed.
Status RunPublish(Connection conn, const std::string& topic, std::istream& in, std::ostream& out);

// Writes {"schema_id": ..., "schema": <schema JSON>} for a topic's current
// schema, or for `schema_id` when given.
Status RunSchema(Connection conn, const std::string& topic, const std::string& schema_id,
                 std::ostream& out);

}  // namespace forcepipe::pubsub
