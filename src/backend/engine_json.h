#pragma once
// Parsing an engine's JSON answer without exceptions (simdjson's error codes), for the engine
// parsers in backend/. Internal to them.

#include <simdjson.h>

#include <string>
#include <string_view>

#include "core/status.h"

namespace mec::engine_json {

// Parses `body`; the element is valid until the next Parse on this thread.
Result<simdjson::dom::element> Parse(std::string_view body, std::string_view what);

// "what: message" as an InvalidArgument.
Status Bad(std::string_view what, std::string_view message);

}  // namespace mec::engine_json
