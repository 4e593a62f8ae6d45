#pragma once
// OpenAI-format errors: {"error":{"message","type","param","code"}} with a matching HTTP status.

#include <string>

namespace mec {

struct ApiError {
  int http_status = 400;
  std::string type = "invalid_request_error";
  std::string message;
  std::string param;  // empty -> null
  std::string code;   // empty -> null

  static ApiError BadRequest(std::string message, std::string param = "", std::string code = "");
  static ApiError NotFound(std::string message, std::string code = "not_found");
  static ApiError Unavailable(std::string message, std::string code = "no_backend_available");
  static ApiError TooManyRequests(std::string message, std::string code = "rate_limited");
  static ApiError Upstream(int status, std::string message);
  static ApiError Internal(std::string message);
};

// {"error":{...}} as a JSON string.
std::string ErrorJson(const ApiError& e);

}  // namespace mec
