// ParseRequest for each endpoint (api/request.h): the first byte picks the endpoint (and whether
// the upstream body forces usage), the rest is the JSON body. Properties: an error is a 400 with a
// message; an accepted request's upstream body (BuildUpstreamBody) is accepted again with the
// same meaning, and building it again gives the same bytes.

#include <string>
#include <string_view>
#include <variant>

#include "api/request.h"
#include "fuzz/fuzz_target.h"

MEC_FUZZ_TARGET(request) {
  if (size < 1) return 0;
  constexpr mec::Endpoint kEndpoints[] = {mec::Endpoint::kChatCompletions, mec::Endpoint::kCompletions,
                                          mec::Endpoint::kEmbeddings};
  const mec::Endpoint endpoint = kEndpoints[data[0] % 3];
  const bool force_usage = (data[0] & 4) != 0;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);

  auto parsed = mec::ParseRequest(endpoint, body);
  if (const auto* err = std::get_if<mec::ApiError>(&parsed)) {
    MEC_FUZZ_CHECK(err->http_status == 400 && !err->message.empty());
    return 0;
  }
  const mec::ParsedRequest& req = std::get<mec::ParsedRequest>(parsed);
  MEC_FUZZ_CHECK(!req.model.empty() && req.n >= 1 && req.n <= 128);
  MEC_FUZZ_CHECK(!req.max_tokens || *req.max_tokens >= 1);

  const std::string up = mec::BuildUpstreamBody(req, "fuzz-model", force_usage);
  auto again = mec::ParseRequest(endpoint, up);
  if (const auto* err = std::get_if<mec::ApiError>(&again)) {
    std::fprintf(stderr, "upstream body rejected: %s\n%s\n", err->message.c_str(), up.c_str());
    MEC_FUZZ_CHECK(!"the upstream body of an accepted request is accepted");
  }
  const mec::ParsedRequest& req2 = std::get<mec::ParsedRequest>(again);
  MEC_FUZZ_CHECK(req2.model == "fuzz-model" && req2.stream == req.stream && req2.text == req.text &&
                 req2.last_user_text == req.last_user_text && req2.message_count == req.message_count &&
                 req2.max_tokens == req.max_tokens && req2.n == req.n && req2.needs_tools == req.needs_tools &&
                 req2.needs_json_schema == req.needs_json_schema && req2.needs_image_input == req.needs_image_input);
  MEC_FUZZ_CHECK(req2.include_usage == (req.include_usage || (force_usage && req.stream)));
  MEC_FUZZ_CHECK(mec::BuildUpstreamBody(req2, "fuzz-model", force_usage) == up);
  return 0;
}
