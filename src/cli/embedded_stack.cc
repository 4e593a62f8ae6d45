#include "cli/embedded_stack.h"

#include <algorithm>
#include <string_view>

#include <fmt/format.h>

#include "emulate/tier_profile.h"
#include "sim/client_engine.h"

namespace mec::cli {

ServerOptions EmulatorServerOptions(const std::string& listen, int threads) {
  ServerOptions s;
  s.listen = listen;
  s.threads = threads;
  s.keepalive_timeout_ms = 120000;
  return s;
}

Result<Options> EmbeddedStack::Start(const std::string& listen, const EmbeddedStackOptions& stack) {
  Options o;
  o.source = "embedded demo";
  o.server.listen = listen;
  // The demo shows the learning loop: the emulated cloud is reference and judge (its verdicts come
  // from the emulated hidden difficulty, emulate/hidden_quality.h), verdicts are kept in memory.
  o.learning.enabled = true;
  uint64_t seed = 1;
  for (const char* tier : {"device", "edge", "cloud"}) {
    auto profile = BuiltinProfile(tier);
    if (std::string_view(tier) == "edge") profile->gpus = std::max(1, stack.edge_gpus);
    const EngineFlavor flavor = !stack.flavors                      ? EngineFlavor::kOpenAI
                                : std::string_view(tier) == "device" ? EngineFlavor::kLlamaCpp
                                : std::string_view(tier) == "edge"   ? EngineFlavor::kVllm
                                                                     : EngineFlavor::kOpenAI;
    if (flavor != EngineFlavor::kOpenAI) profile->load_ms = 0;  // the demo starts with its models loaded
    auto sh = std::make_unique<net::EmulatorShared>(*profile, clock_, seed++, flavor);
    auto* shp = sh.get();
    auto srv = std::make_unique<net::HttpServer>(EmulatorServerOptions("127.0.0.1:0", 1), [shp](int, net::asio::io_context&) {
      return std::make_shared<net::EmulatorHandler>(*shp);
    });
    if (Status s = srv->Listen(); !s.ok()) return s;
    srv->Start();

    BackendOptions b;
    b.tier = *ParseTier(tier);
    b.url = fmt::format("http://127.0.0.1:{}/v1", srv->port());
    b.models = {profile->model};
    if (!profile->embedding_model.empty()) b.embedding_models = {profile->embedding_model};
    b.context_window = profile->context_window;
    if (b.tier == Tier::kDevice) {
      b.name = "device-phone";
      b.max_concurrency = 1;
      b.timeouts.first_byte_ms = 20000;
      b.price.watts = 5;          // ASSUMPTION: a phone SoC under load
      b.price.usd_per_kwh = 0.15; // ASSUMPTION: residential electricity price
      // The emulator continues a partial answer as llama.cpp's server does (docs/continuation.md).
      b.can_continue = true;
      b.continue_style = ContinueStyle::kPrefill;
    } else if (b.tier == Tier::kEdge) {
      b.name = "edge-mec-1";
      b.max_concurrency = profile->max_concurrency * profile->gpus;  // 8 slots per GPU (the profile's)
      b.json_schema = true;
      b.tools = true;
      b.can_continue = true;  // as vLLM does: continue_final_message
      b.timeouts.first_byte_ms = 10000;
      b.price.gpu_per_hour = 1.006;                // calibration row 32 (g5.xlarge on demand)
      b.price.gpu_tokens_per_second = 75.0 * 6.6;  // rows 28-29
    } else {
      b.name = "cloud-gpt-4o";
      // An API shows no slots (its limits are requests and tokens per minute); the cap only bounds
      // the gateway's own connections to it. 256 made the cloud the soak's shedding limit at
      // ~570/s (Little: 256 / 0.45 s), a limit of this demo rather than of the gateway.
      b.max_concurrency = 1024;
      b.tools = b.json_schema = b.image_input = true;
      b.timeouts.first_byte_ms = 15000;
      b.price.input_per_1m = 2.50;   // row 45
      b.price.output_per_1m = 10.00; // row 46
    }
    if (stack.profile_priors) {  // the emulator's TTFT includes its network: the priors' RTT is that
      b.expect = sim::ProfilePriors(*profile, 0);
      b.expect.rtt_ms = std::max(1.0, profile->rtt_ms);
    }
    if (flavor == EngineFlavor::kLlamaCpp) b.engine.kind = EngineKind::kLlamaCpp;
    if (flavor == EngineFlavor::kVllm) b.engine.kind = EngineKind::kVllm;
    o.backends.push_back(std::move(b));
    shared_.push_back(std::move(sh));
    servers_.push_back(std::move(srv));
  }
  return o;
}

void EmbeddedStack::Stop() {
  for (auto& s : servers_) s->Shutdown(std::chrono::milliseconds(0));
  servers_.clear();
  shared_.clear();
}

int EmbeddedStack::port(Tier tier) const {
  for (size_t i = 0; i < servers_.size(); ++i)
    if (ParseTier(shared_[i]->model.profile().name) == tier) return servers_[i]->port();
  return -1;
}

std::vector<std::string> EmbeddedStack::Describe() const {
  std::vector<std::string> out;
  for (size_t i = 0; i < servers_.size(); ++i) {
    const TierProfile& p = shared_[i]->model.profile();
    const EngineFlavor f = shared_[i]->flavor;
    out.push_back(fmt::format("{:<6} emulator ({}{}{}) on http://127.0.0.1:{}/v1", p.name, p.model,
                              p.gpus > 1 ? fmt::format(", {} GPUs", p.gpus) : "",
                              f == EngineFlavor::kOpenAI ? "" : fmt::format(", speaks {}", FlavorName(f)), servers_[i]->port()));
  }
  return out;
}

}  // namespace mec::cli
