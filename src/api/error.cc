#include "api/error.h"

#include "core/json_writer.h"

namespace mec {

ApiError ApiError::BadRequest(std::string message, std::string param, std::string code) {
  return ApiError{400, "invalid_request_error", std::move(message), std::move(param), std::move(code)};
}
ApiError ApiError::NotFound(std::string message, std::string code) {
  return ApiError{404, "invalid_request_error", std::move(message), "", std::move(code)};
}
ApiError ApiError::Unavailable(std::string message, std::string code) {
  return ApiError{503, "service_unavailable", std::move(message), "", std::move(code)};
}
ApiError ApiError::TooManyRequests(std::string message, std::string code) {
  return ApiError{429, "rate_limit_error", std::move(message), "", std::move(code)};
}
ApiError ApiError::Upstream(int status, std::string message) {
  return ApiError{status, "upstream_error", std::move(message), "", "upstream_error"};
}
ApiError ApiError::Internal(std::string message) {
  return ApiError{500, "internal_error", std::move(message), "", ""};
}

std::string ErrorJson(const ApiError& e) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Key("error").BeginObject().Field("message", e.message).Field("type", e.type);
  w.Key("param");
  e.param.empty() ? w.Null() : w.String(e.param);
  w.Key("code");
  e.code.empty() ? w.Null() : w.String(e.code);
  w.EndObject().EndObject();
  return out;
}

}  // namespace mec
