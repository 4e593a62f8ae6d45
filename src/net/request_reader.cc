#include "net/request_reader.h"

#include <boost/asio/error.hpp>
#include <fmt/format.h>

namespace mec::net {

namespace http = boost::beast::http;
namespace asio = boost::asio;

void LimitRequestParser(RequestParser& parser, const ServerOptions& o) {
  parser.header_limit(static_cast<uint32_t>(o.max_header_bytes));
  parser.body_limit(static_cast<uint64_t>(o.max_body_bytes));
}

std::optional<ApiError> RequestReadError(const boost::beast::error_code& ec, bool body, const ServerOptions& o) {
  if (ec == http::error::end_of_stream || ec == asio::error::connection_reset || ec == asio::error::eof) return std::nullopt;
  if (ec == http::error::body_limit)
    return ApiError{413, "invalid_request_error", fmt::format("Request body is larger than the limit of {} bytes.", o.max_body_bytes), "",
                    "request_too_large"};
  if (!body) {
    if (ec == http::error::header_limit)
      return ApiError{431, "invalid_request_error", fmt::format("Request header fields are larger than {} bytes.", o.max_header_bytes), "",
                      "headers_too_large"};
    if (ec == asio::error::operation_aborted) return std::nullopt;
    return ApiError{400, "invalid_request_error", "Malformed HTTP request: " + ec.message(), "", "bad_request"};
  }
  return ApiError{400, "invalid_request_error", "Malformed HTTP request body: " + ec.message(), "", "bad_request"};
}

std::optional<ApiError> CheckHeaderCount(const http::request_header<>& head, const ServerOptions& o) {
  int fields = 0;
  for (auto const& f : head) {
    (void)f;
    ++fields;
  }
  if (fields <= o.max_header_count) return std::nullopt;
  return ApiError{431, "invalid_request_error", fmt::format("Too many header fields ({} > {}).", fields, o.max_header_count), "",
                  "too_many_headers"};
}

std::optional<ApiError> ApplyHeaderHints(const http::request_header<>& head, Hints& hints) {
  for (const auto& f : head) {
    std::string_view name = f.name_string();
    if (name.size() < 6 || !IEquals(name.substr(0, 6), "x-mec-")) continue;
    if (!IsHintHeader(name)) continue;
    if (auto e = ApplyHint(name, f.value(), hints)) return e;
  }
  return std::nullopt;
}

}  // namespace mec::net
