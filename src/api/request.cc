#include "api/request.h"

#include <simdjson.h>

#include "api/json_members.h"
#include "core/json_writer.h"

namespace mec {
namespace dom = simdjson::dom;

namespace {

std::string_view TypeName(dom::element_type t) {
  switch (t) {
    case dom::element_type::ARRAY: return "an array";
    case dom::element_type::OBJECT: return "an object";
    case dom::element_type::INT64:
    case dom::element_type::UINT64:
    case dom::element_type::DOUBLE: return "a number";
    case dom::element_type::STRING: return "a string";
    case dom::element_type::BOOL: return "a boolean";
    case dom::element_type::NULL_VALUE: return "null";
  }
  return "a value";
}

bool IsNumber(dom::element_type t) {
  return t == dom::element_type::INT64 || t == dom::element_type::UINT64 || t == dom::element_type::DOUBLE;
}

ApiError WrongType(std::string_view field, std::string_view expected, dom::element_type got) {
  return ApiError::BadRequest("Invalid type for '" + std::string(field) + "': expected " + std::string(expected) +
                                  ", but got " + std::string(TypeName(got)) + " instead.",
                              std::string(field), "invalid_type");
}

ApiError BadJson() {
  return ApiError::BadRequest(
      "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library "
      "correctly. The OpenAI API expects a JSON payload.)",
      "", "invalid_json");
}

using Err = std::optional<ApiError>;

std::string Indexed(std::string_view field, size_t i) { return std::string(field) + "[" + std::to_string(i) + "]"; }

Err ParseContentParts(dom::array parts, size_t msg_index, ParsedRequest& req, std::string& text) {
  for (dom::element part_el : parts) {
    dom::object part;
    if (part_el.get_object().get(part))
      return WrongType(Indexed("messages", msg_index) + ".content[]", "an object", part_el.type());
    std::string_view type;
    if (part["type"].get_string().get(type))
      return ApiError::BadRequest("Missing or invalid 'type' in a content part of " + Indexed("messages", msg_index) + ".",
                                  "messages", "invalid_value");
    if (type == "text" || type == "input_text") {
      std::string_view t;
      if (part["text"].get_string().get(t))
        return ApiError::BadRequest("Invalid 'text' in a content part of " + Indexed("messages", msg_index) + ".",
                                    "messages", "invalid_value");
      if (!text.empty()) text.push_back('\n');
      text.append(t);
    } else if (type == "image_url" || type == "input_image") {
      req.needs_image_input = true;
    }
  }
  return std::nullopt;
}

Err ParseMessages(dom::array arr, ParsedRequest& req) {
  std::string last_user;
  size_t i = 0;
  for (dom::element msg_el : arr) {
    dom::object msg;
    if (msg_el.get_object().get(msg)) return WrongType(Indexed("messages", i), "an object", msg_el.type());
    dom::element role_el;
    if (msg["role"].get(role_el))
      return ApiError::BadRequest("Missing required parameter: '" + Indexed("messages", i) + ".role'.", "messages",
                                  "missing_required_parameter");
    std::string_view role;
    if (role_el.get_string().get(role)) return WrongType(Indexed("messages", i) + ".role", "a string", role_el.type());
    if (role != "system" && role != "user" && role != "assistant" && role != "tool" && role != "developer" &&
        role != "function")
      return ApiError::BadRequest("Invalid value for '" + Indexed("messages", i) + ".role': '" + std::string(role) +
                                      "'. Supported values are: 'system', 'developer', 'user', 'assistant', 'tool'.",
                                  "messages", "invalid_value");
    std::string content;
    dom::element content_el;
    if (!msg["content"].get(content_el)) {
      switch (content_el.type()) {
        case dom::element_type::STRING: content.assign(std::string_view(content_el)); break;
        case dom::element_type::ARRAY:
          if (auto e = ParseContentParts(dom::array(content_el), i, req, content)) return e;
          break;
        case dom::element_type::NULL_VALUE: break;  // assistant turns with tool_calls
        default: return WrongType(Indexed("messages", i) + ".content", "a string or an array", content_el.type());
      }
    }
    if (!content.empty()) {
      if (!req.text.empty()) req.text.push_back('\n');
      req.text += content;
      if (role == "user") last_user = std::move(content);
    }
    ++i;
  }
  if (i == 0)
    return ApiError::BadRequest("Invalid 'messages': empty array. Expected an array with minimum length 1.", "messages",
                                "empty_array");
  req.message_count = static_cast<int>(i);
  req.last_user_text = std::move(last_user);
  return std::nullopt;
}

// prompt (completions) or input (embeddings): a string or an array of strings / token ids.
Err ParseTextInput(std::string_view field, dom::element el, ParsedRequest& req) {
  if (el.type() == dom::element_type::STRING) {
    req.text.assign(std::string_view(el));
  } else if (el.type() == dom::element_type::ARRAY) {
    size_t count = 0;
    for (dom::element item : dom::array(el)) {
      if (item.type() == dom::element_type::STRING) {
        if (!req.text.empty()) req.text.push_back('\n');
        req.text.append(std::string_view(item));
      } else if (IsNumber(item.type()) || item.type() == dom::element_type::ARRAY) {
        req.text.append(4, ' ');  // a token id: ~4 characters for estimates
      } else {
        return WrongType(field, "a string or an array of strings", item.type());
      }
      ++count;
    }
    if (count == 0) return ApiError::BadRequest("Invalid '" + std::string(field) + "': empty array.", std::string(field), "empty_array");
  } else {
    return WrongType(field, "a string or an array of strings", el.type());
  }
  req.last_user_text = req.text;
  return std::nullopt;
}

// The body's "mec" object: the same hints as the X-MEC-* headers, keys in snake_case.
Err ParseMecObject(dom::element el, ParsedRequest& req) {
  dom::object obj;
  if (el.get_object().get(obj)) return WrongType("mec", "an object", el.type());
  for (auto [key, v] : obj) {
    std::string_view header = HintHeaderForBodyKey(key);
    std::string param = "mec." + std::string(key);
    if (header.empty()) return ApiError::BadRequest("Unknown hint '" + param + "'.", param, "invalid_hint");
    std::string text;
    if (v.type() == dom::element_type::STRING) text.assign(std::string_view(v));
    else if (IsNumber(v.type())) text = simdjson::minify(v);
    else return WrongType(param, "a string or a number", v.type());
    if (auto e = ApplyHint(header, text, req.body_hints)) {
      e->param = param;
      e->message = "Invalid '" + param + "' (the body form of " + std::string(header) + "): " + e->message;
      return e;
    }
  }
  return std::nullopt;
}

dom::parser& ThreadParser() {
  thread_local dom::parser parser;
  return parser;
}

}  // namespace

std::string_view EndpointPath(Endpoint e) {
  switch (e) {
    case Endpoint::kChatCompletions: return "/v1/chat/completions";
    case Endpoint::kCompletions: return "/v1/completions";
    case Endpoint::kEmbeddings: return "/v1/embeddings";
  }
  return "";
}

namespace {

// The request's parts that are read after its members: which text input it has, and ours.
struct Inputs {
  std::optional<dom::element> messages, prompt, input, mec;
};

// One member of the body that the gateway reads (a type or value it cannot take is the client's
// error); members it does not know are only forwarded.
std::optional<ApiError> ReadMember(std::string_view key, dom::element v, ParsedRequest& req, Inputs& in) {
  const auto t = v.type();
  if (key == "stream") {
    if (t == dom::element_type::BOOL) req.stream = bool(v);
    else if (t != dom::element_type::NULL_VALUE) return WrongType(key, "a boolean", t);
  } else if (key == "max_tokens" || key == "max_completion_tokens") {
    if (t != dom::element_type::NULL_VALUE) {
      int64_t n;
      if (v.get_int64().get(n)) return WrongType(key, "an integer", t);
      if (n < 1) return ApiError::BadRequest("Invalid '" + std::string(key) + "': integer below minimum value. Expected a value >= 1, but got " + std::to_string(n) + " instead.", std::string(key), "integer_below_min_value");
      req.max_tokens = n;
    }
  } else if (key == "temperature") {
    if (t != dom::element_type::NULL_VALUE) {
      double d;
      if (!IsNumber(t) || v.get_double().get(d)) return WrongType(key, "a number", t);
      if (d < 0 || d > 2) return ApiError::BadRequest("Invalid 'temperature': expected a number between 0 and 2.", std::string(key), "invalid_value");
      req.temperature = d;
    }
  } else if (key == "seed") {
    if (t != dom::element_type::NULL_VALUE) {
      int64_t n;
      if (v.get_int64().get(n)) return WrongType(key, "an integer", t);
      req.seed = n;
    }
  } else if (key == "n") {
    if (t != dom::element_type::NULL_VALUE) {
      int64_t n;
      if (v.get_int64().get(n)) return WrongType(key, "an integer", t);
      if (n < 1 || n > 128) return ApiError::BadRequest("Invalid 'n': expected an integer between 1 and 128.", std::string(key), "invalid_value");
      req.n = n;
    }
  } else if (key == "messages") {
    if (t != dom::element_type::ARRAY) return WrongType(key, "an array", t);
    in.messages = v;
  } else if (key == "prompt") {
    in.prompt = v;
  } else if (key == "input") {
    in.input = v;
  } else if (key == "stream_options") {
    if (t == dom::element_type::OBJECT) {
      dom::element iu;
      if (!v["include_usage"].get(iu)) {
        if (iu.type() != dom::element_type::BOOL) return WrongType("stream_options.include_usage", "a boolean", iu.type());
        req.include_usage = bool(iu);
      }
    } else if (t != dom::element_type::NULL_VALUE) {
      return WrongType(key, "an object", t);
    }
  } else if (key == "response_format") {
    if (t == dom::element_type::OBJECT) {
      std::string_view type;
      if (v["type"].get_string().get(type)) return ApiError::BadRequest("Missing or invalid 'response_format.type'.", "response_format.type", "invalid_value");
      req.needs_json_schema = type == "json_schema" || type == "json_object";
    } else if (t != dom::element_type::NULL_VALUE) {
      return WrongType(key, "an object", t);
    }
  } else if (key == "tools" || key == "functions") {
    if (t == dom::element_type::ARRAY) req.needs_tools = dom::array(v).size() > 0;
    else if (t != dom::element_type::NULL_VALUE) return WrongType(key, "an array", t);
  }
  return std::nullopt;
}

// The endpoint's text input, which must be there.
std::optional<ApiError> ReadInput(Endpoint endpoint, const Inputs& in, ParsedRequest& req) {
  switch (endpoint) {
    case Endpoint::kChatCompletions:
      if (!in.messages) return ApiError::BadRequest("Missing required parameter: 'messages'.", "messages", "missing_required_parameter");
      if (auto e = ParseMessages(dom::array(*in.messages), req)) return *e;
      break;
    case Endpoint::kCompletions:
      if (!in.prompt) return ApiError::BadRequest("Missing required parameter: 'prompt'.", "prompt", "missing_required_parameter");
      if (auto e = ParseTextInput("prompt", *in.prompt, req)) return *e;
      break;
    case Endpoint::kEmbeddings:
      if (!in.input) return ApiError::BadRequest("Missing required parameter: 'input'.", "input", "missing_required_parameter");
      if (auto e = ParseTextInput("input", *in.input, req)) return *e;
      if (req.stream) return ApiError::BadRequest("Embeddings cannot be streamed.", "stream", "invalid_value");
      break;
  }
  return std::nullopt;
}

}  // namespace

std::variant<ParsedRequest, ApiError> ParseRequest(Endpoint endpoint, std::string_view body) {
  ParsedRequest req;
  req.endpoint = endpoint;
  dom::element doc;
  if (ThreadParser().parse(body.data(), body.size()).get(doc)) return BadJson();
  dom::object obj;
  if (doc.get_object().get(obj))
    return ApiError::BadRequest("Invalid request body: expected a JSON object, but got " + std::string(TypeName(doc.type())) + ".",
                                "", "invalid_type");

  Inputs in;
  bool has_model = false;
  req.fields.reserve(obj.size());
  JsonMembers raw(body);  // each value as written, in step with the document's members
  for (auto [key_view, v] : obj) {
    const std::string_view written = raw.NextValue();
    const auto t = v.type();
    if (key_view == "model") {
      if (t != dom::element_type::STRING) return WrongType("model", "a string", t);
      req.model.assign(std::string_view(v));
      has_model = true;
      continue;  // replaced upstream
    }
    if (key_view == "mec") {
      in.mec = v;
      continue;  // ours, not forwarded
    }
    // Compared as views (a std::string's compare with a literal is a call each); the key is
    // copied once, into the kept field.
    const std::string_view key = key_view;
    if (auto e = ReadMember(key, v, req, in)) return *e;
    std::string value;
    value.reserve(written.size());
    AppendMinified(written, value);
    req.fields.emplace_back(std::string(key), std::move(value));
  }

  if (!has_model) return ApiError::BadRequest("you must provide a model parameter", "model", "missing_required_parameter");
  if (req.model.empty()) return ApiError::BadRequest("Invalid 'model': empty string.", "model", "invalid_value");

  if (auto e = ReadInput(endpoint, in, req)) return *e;
  if (in.mec)
    if (auto e = ParseMecObject(*in.mec, req)) return *e;
  return req;
}

std::string BuildUpstreamBody(const ParsedRequest& req, std::string_view upstream_model, bool force_usage) {
  size_t size = 64;
  for (const auto& f : req.fields) size += f.first.size() + f.second.size() + 4;
  std::string out;
  out.reserve(size);
  out += "{\"model\":";
  AppendJsonString(out, upstream_model);
  const bool inject_usage = force_usage && req.stream && !req.include_usage;
  for (const auto& [key, raw] : req.fields) {
    if (inject_usage && key == "stream_options") continue;
    out.push_back(',');
    AppendJsonString(out, key);
    out.push_back(':');
    out.append(raw);
  }
  if (inject_usage) out += ",\"stream_options\":{\"include_usage\":true}";
  out.push_back('}');
  return out;
}

}  // namespace mec
