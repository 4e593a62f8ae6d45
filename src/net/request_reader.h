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

// The plain request, read without Beast's parser (its parse, field callbacks and composed reads
// cost ~4,000 instructions a request, docs/benchmarks.md). `bytes` is what the connection has
// read so far. A head is plain when its request line is a token method, a target of visible
// ASCII and HTTP/1.1 or HTTP/1.0; each field line a token name, a colon and a value of visible
// characters, spaces and tabs (obs-text allowed), every line ending in CRLF; with at most one
// Content-Length (digits only), Connection and Proxy-Connection as plain token lists (Beast
// refuses a malformed one), no Transfer-Encoding or Upgrade, and within the server's limits
// (head bytes, field count, body bytes). Then the head is written into `req` (method, target, version,
// each field as Beast's parser inserts it, trimmed) and kParsed is returned with the head's size
// and the body's length. kNeedMore: no blank line yet and the head may still fit. kUseBeast:
// anything else (a chunked body, a folded line, a bare LF, a limit passed, a malformed line):
// Beast's parser then reads the same bytes and gives its answer (or its 400, 413 or 431), so
// nothing unusual is judged here. `req` is unspecified unless kParsed.
enum class PlainHead { kNeedMore, kParsed, kUseBeast };
PlainHead ParsePlainHead(std::string_view bytes, const ServerOptions& o,
                         boost::beast::http::request<boost::beast::http::string_body>& req, size_t& head_bytes,
                         size_t& content_length);

// The error answer to a failed read of a request's head (`body` false) or of its body, for errors
// other than the server's own timeouts; nullopt when the connection just closes (the client went
// away, or the read was cancelled while reading a head).
std::optional<ApiError> RequestReadError(const boost::beast::error_code& ec, bool body, const ServerOptions& o);

// A 431 when the head has more fields than max_header_count.
std::optional<ApiError> CheckHeaderCount(const boost::beast::http::request_header<>& head, const ServerOptions& o);

// Collects the X-MEC-* hint headers into `hints` (over the body's "mec" hints: headers win).
std::optional<ApiError> ApplyHeaderHints(const boost::beast::http::request_header<>& head, Hints& hints);

}  // namespace mec::net
