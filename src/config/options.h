#pragma once
// Typed configuration, parsed once from YAML (loader.h). Every field has a documented default;
// README.md's "Configuration" section mirrors this file.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mec {

enum class Tier { kDevice = 0, kEdge = 1, kCloud = 2 };
inline constexpr int kTierCount = 3;
std::string_view TierName(Tier t);
std::optional<Tier> ParseTier(std::string_view s);

struct TimeoutOptions {
  int64_t connect_ms = 2000;       // TCP (+TLS) connect
  int64_t first_byte_ms = 30000;   // request sent -> first response byte
  int64_t idle_ms = 30000;         // longest gap between two body reads while streaming
  int64_t total_ms = 300000;       // whole attempt
};

// How a backend is priced. APIs: per 1M tokens. Self-hosted GPUs: per hour at a throughput,
// converted to a cost per token. Devices: energy (watts while generating x electricity price).
struct PriceOptions {
  double input_per_1m = 0;   // USD per 1M input tokens
  double output_per_1m = 0;  // USD per 1M output tokens
  double gpu_per_hour = 0;           // USD per GPU-hour (self-hosted)
  double gpu_tokens_per_second = 0;  // aggregate output tokens/s that hour buys
  double watts = 0;                  // device power draw while generating
  double usd_per_kwh = 0;            // electricity price
};

struct BackendOptions {
  std::string name;                 // unique; shown in X-MEC-Backend
  Tier tier = Tier::kCloud;
  std::string url;                  // base URL up to and including /v1, e.g. http://127.0.0.1:8000/v1
  std::vector<std::string> models;  // served model names; the first is sent for tier/auto requests
  std::vector<std::string> embedding_models;
  std::string api_key_env;          // environment variable holding the credential; empty: none
  std::string auth_header = "Authorization";  // "Authorization" sends "Bearer KEY"; any other sends KEY
  int max_concurrency = 64;         // in-flight requests before the backend counts as full
  int64_t context_window = 8192;    // tokens
  bool tools = false, json_schema = false, image_input = false;  // capabilities
  bool stream_usage = true;         // ask for stream usage upstream for accounting
  bool tls_verify = true;
  std::string ca_file;              // extra CA bundle; empty: system default
  TimeoutOptions timeouts;
  PriceOptions price;
  // Where it came from (for messages).
  int line = 0;
};

struct ServerOptions {
  std::string listen = "127.0.0.1:8080";
  int threads = 0;                        // 0: one per core
  int64_t max_body_bytes = 4 << 20;       // larger request bodies get 413
  int64_t max_header_bytes = 16 << 10;    // larger header blocks get 431
  int max_header_count = 100;             // more header fields get 431
  int64_t header_timeout_ms = 10000;      // slow client: headers must arrive within this (408)
  int64_t body_timeout_ms = 30000;        // and the body within this after them (408)
  int64_t keepalive_timeout_ms = 60000;   // idle keep-alive connections are closed after this
  int64_t shutdown_grace_ms = 10000;      // SIGTERM: in-flight requests get this long to finish
  int max_connections = 10000;            // further connections wait in the kernel's backlog
};

struct RoutingOptions {
  std::string policy = "preference";
  // model "auto": tiers tried in this order.
  std::vector<Tier> auto_order = {Tier::kEdge, Tier::kCloud, Tier::kDevice};
  int max_attempts = 3;                   // upstream attempts per request (first + failovers)
  double default_min_quality = 0.9;
};

struct Options {
  ServerOptions server;
  RoutingOptions routing;
  std::vector<BackendOptions> backends;
  std::string source;  // file name, or "embedded demo"
};

}  // namespace mec
