#pragma once
// The routing interface: a request in, a decision out (the chosen backend first, then the ordered
// fallbacks) or an error. Implementations perform no I/O and read time only through a Clock.

#include <string>
#include <vector>

#include "api/request.h"
#include "backend/backend_pool.h"
#include "core/status.h"

namespace mec {

// What routing needs to know about a request.
struct RouteRequest {
  Endpoint endpoint = Endpoint::kChatCompletions;
  std::string model;  // "auto", a tier name, or a concrete model
  bool needs_tools = false;
  bool needs_json_schema = false;
  bool needs_image_input = false;
  int64_t estimated_input_tokens = 0;
  Privacy privacy = Privacy::kAny;  // device: device tier only; edge: device or edge
};

struct Decision {
  std::vector<int> chain;  // backend indices: primary first, then fallbacks in order
  std::string policy;
  std::string reason;      // one line, for X-MEC-Reason and the decision log
};

class Router {
 public:
  virtual ~Router() = default;
  // NotFound: no backend serves the model. Unavailable: some do, but none can take this request
  // (capabilities, context window). REQUIRES: pool outlives the call.
  virtual Result<Decision> Decide(const RouteRequest& req, const BackendPool& pool) const = 0;
};

}  // namespace mec
