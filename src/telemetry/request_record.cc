#include "telemetry/request_record.h"

#include <fmt/format.h>

#include "context/request_context.h"
#include "route/router.h"

namespace mec {

std::string_view RequestStatusName(RequestStatus s) {
  switch (s) {
    case RequestStatus::kOk: return "ok";
    case RequestStatus::kClientError: return "client_error";
    case RequestStatus::kFailed: return "failed";
    case RequestStatus::kMidstreamCut: return "midstream_cut";
    case RequestStatus::kCancelled: return "cancelled";
    case RequestStatus::kShed: return "shed";
    case RequestStatus::kRejected: return "rejected";
  }
  return "?";
}

const Candidate* RequestRecord::CandidateFor(int b) const {
  if (b < 0) return nullptr;
  if (static_cast<size_t>(b) < candidates.size() && candidates[b].backend == b) return &candidates[b];
  for (const auto& c : candidates)
    if (c.backend == b) return &c;
  return nullptr;
}

std::string FormatNetwork(const NetworkView& n) {
  std::string out;
  auto add = [&out](std::string_view k, const std::string& v) {
    if (!out.empty()) out += "; ";
    out += k;
    out += '=';
    out += v;
  };
  if (n.link != LinkType::kUnknown) add("link", std::string(LinkTypeName(n.link)));
  if (n.rtt_edge_ms) add("rtt-edge", fmt::format("{}", *n.rtt_edge_ms));
  if (n.rtt_cloud_ms) add("rtt-cloud", fmt::format("{}", *n.rtt_cloud_ms));
  if (n.down_mbps) add("down-mbps", fmt::format("{}", *n.down_mbps));
  if (n.up_mbps) add("up-mbps", fmt::format("{}", *n.up_mbps));
  if (n.loss) add("loss", fmt::format("{}", *n.loss));
  return out;
}

void CaptureContext(const RequestContext& ctx, RequestRecord& r) {
  switch (ctx.endpoint) {
    case Endpoint::kChatCompletions: r.endpoint = "chat"; break;
    case Endpoint::kCompletions: r.endpoint = "completions"; break;
    case Endpoint::kEmbeddings: r.endpoint = "embeddings"; break;
  }
  r.model = ctx.model;
  r.task_class = ctx.task_class;
  r.use_case = ctx.use_case;
  r.input_tokens_est = ctx.input_tokens;
  r.output_tokens_est = ctx.output_tokens;
  r.deadline_ms = ctx.deadline_ms;
  r.ttft_deadline_ms = ctx.ttft_deadline_ms;
  r.min_quality = ctx.min_quality;
  r.privacy = std::string(PrivacyName(ctx.privacy));
  r.network = FormatNetwork(ctx.network);
  r.stream = ctx.stream;
}

void CaptureDecision(const Decision& d, double decision_s, RequestRecord& r) {
  r.decided = true;
  r.policy = d.policy;
  r.reason = d.reason;
  r.chain = d.chain;
  r.candidates = d.candidates;
  r.hedge_planned = d.hedge;
  r.decision_s = decision_s;
}

}  // namespace mec
