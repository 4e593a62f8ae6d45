#pragma once
// The gateway's request handler: OpenAI endpoints in, routed and failed-over upstream calls out,
// answers streamed back chunk by chunk. One per worker; GatewayShared is shared by all workers.

#include "core/rng.h"
#include "net/gateway_shared.h"
#include "net/http_server.h"
#include "net/upstream_client.h"

namespace mec::net {

class GatewayHandler final : public Handler {
 public:
  GatewayHandler(GatewayShared& shared, asio::io_context& ioc, int worker);
  // A plain call: a POST to a proxied endpoint goes straight to its call's coroutine
  // (ProxyCall::Serve, one coroutine frame fewer per request); everything else to HandleOther.
  awaitable<void> Handle(HttpRequest& req, ClientChannel& ch) override;

 private:
  awaitable<void> HandleOther(HttpRequest& req, ClientChannel& ch);
  awaitable<void> Feedback(HttpRequest& req, ClientChannel& ch);
  HttpResponse Models(unsigned version, bool keep_alive) const;
  // The gateway's own read-only routes (models, health, metrics, stats, state, learning), else 404.
  HttpResponse InfoRoute(const HttpRequest& req, std::string_view path) const;

  GatewayShared& s_;
  UpstreamPools pools_;
  Rng rng_;      // this worker's stream for randomized policies
  Rng ids_rng_;  // and for new trace and span ids
};

}  // namespace mec::net
