#include "backend/attempt_result.h"

namespace mec {

std::string_view AttemptResultName(AttemptResult r) {
  switch (r) {
    case AttemptResult::kOk: return "ok";
    case AttemptResult::kConnect: return "connect";
    case AttemptResult::kTimeout: return "timeout";
    case AttemptResult::kReset: return "reset";
    case AttemptResult::kServerError: return "server_error";
    case AttemptResult::kRateLimited: return "rate_limited";
    case AttemptResult::kMidstreamCut: return "midstream_cut";
    case AttemptResult::kCancelled: return "cancelled";
    case AttemptResult::kClientError: return "client_error";
    case AttemptResult::kSkipped: return "skipped";
  }
  return "?";
}

std::string_view AttemptResultText(AttemptResult r) {
  switch (r) {
    case AttemptResult::kOk: return "ok";
    case AttemptResult::kConnect: return "connect failed";
    case AttemptResult::kTimeout: return "timeout";
    case AttemptResult::kReset: return "connection closed";
    case AttemptResult::kServerError: return "server error";
    case AttemptResult::kRateLimited: return "rate limited";
    case AttemptResult::kMidstreamCut: return "failed mid-stream";
    case AttemptResult::kCancelled: return "cancelled";
    case AttemptResult::kClientError: return "client error";
    case AttemptResult::kSkipped: return "skipped";
  }
  return "failure";
}

}  // namespace mec
