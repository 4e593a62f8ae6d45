#pragma once
// What the HTTP server decides about a request it reads, as pure functions: the parser's limits,
// the answer to a failed read, the header-count limit, and the X-MEC-* hint headers. The server's
// connection coroutine (http_server.cc) and the proxy (proxy_call.cc) call them, and so does the
// fuzz target fuzz/http_request_fuzz.cc, which feeds the same parser from bytes instead of a socket.

#include <optional>

#include <boost/beast/core/error.hpp>
#include <boost/beast/http.hpp>

#include "api/error.h"
#include "api/hints.h"
#include "config/options.h"

namespace mec::net {

using RequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

// Sets the server's limits on a new parser (header bytes: 431, body bytes: 413).
void LimitRequestParser(RequestParser& parser, const ServerOptions& o);

// The error answer to a failed read of a request's head (`body` false) or of its body, for errors
// other than the server's own timeouts; nullopt when the connection just closes (the client went
// away, or the read was cancelled while reading a head).
std::optional<ApiError> RequestReadError(const boost::beast::error_code& ec, bool body, const ServerOptions& o);

// A 431 when the head has more fields than max_header_count.
std::optional<ApiError> CheckHeaderCount(const boost::beast::http::request_header<>& head, const ServerOptions& o);

// Collects the X-MEC-* hint headers into `hints` (over the body's "mec" hints: headers win).
std::optional<ApiError> ApplyHeaderHints(const boost::beast::http::request_header<>& head, Hints& hints);

}  // namespace mec::net
