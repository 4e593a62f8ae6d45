#include "backend/engine_json.h"

namespace mec::engine_json {

Status Bad(std::string_view what, std::string_view message) {
  return Status::InvalidArgument(std::string(what) + ": " + std::string(message));
}

Result<simdjson::dom::element> Parse(std::string_view body, std::string_view what) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto err = parser.parse(body.data(), body.size()).get(doc)) return Bad(what, std::string("not JSON (") + simdjson::error_message(err) + ")");
  return doc;
}

}  // namespace mec::engine_json
