// The HTTP server's reading of one request (net/http_server.cc), without a socket: the same Beast
// parser with the same limits (net/request_reader.h), read with the synchronous forms of the
// server's http::async_read_header and http::async_read from a stream that hands out the input
// in pieces and then reports end of stream; then what the server and the gateway do with what was
// read: the error answer, the header count, the X-MEC-* hint headers, the request ids, and
// ParseRequest when the target is an endpoint. The first byte seeds the piece sizes and picks
// small or the default limits. First, the server's own reading of a plain head (ParsePlainHead)
// is checked against Beast's parser on the same bytes.
// Property: every error the server would answer is a 4xx.

#include <algorithm>
#include <string_view>
#include <variant>

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "api/request.h"
#include "core/rng.h"
#include "fuzz/fuzz_target.h"
#include "net/request_ids.h"
#include "net/request_reader.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

// A SyncReadStream over a byte string: read_some hands out 1..64 bytes at a time (sizes from an
// LCG seeded by the first input byte), then asio::error::eof, as a socket whose peer closed.
class PieceStream {
 public:
  PieceStream(std::string_view bytes, uint32_t seed) : rest_(bytes), x_(seed) {}
  template <class MutableBuffers>
  size_t read_some(const MutableBuffers& buffers, beast::error_code& ec) {
    ec = {};
    if (rest_.empty()) {
      ec = asio::error::eof;
      return 0;
    }
    x_ = x_ * 1664525u + 1013904223u;
    const size_t want = std::min<size_t>(rest_.size(), 1 + (x_ >> 26));
    const size_t n = asio::buffer_copy(buffers, asio::buffer(rest_.data(), want));
    rest_.remove_prefix(n);
    return n;
  }
  template <class MutableBuffers>
  size_t read_some(const MutableBuffers& buffers) {
    beast::error_code ec;
    const size_t n = read_some(buffers, ec);
    if (ec) throw beast::system_error(ec);
    return n;
  }

 private:
  std::string_view rest_;
  uint32_t x_;
};

void CheckClientError(const std::optional<mec::ApiError>& e) {
  if (e) MEC_FUZZ_CHECK(e->http_status >= 400 && e->http_status < 500 && !e->message.empty());
}

// The server reads a plain head without Beast (ParsePlainHead): whatever that takes, Beast's
// parser takes too, with the same method, target, version, fields and body.
void CheckPlainHead(std::string_view bytes, const mec::ServerOptions& o) {
  http::request<http::string_body> plain;
  size_t head = 0, length = 0;
  if (mec::net::ParsePlainHead(bytes, o, plain, head, length) != mec::net::PlainHead::kParsed) return;
  if (head + length > bytes.size()) return;  // the body is not all here: the server reads on
  mec::net::RequestParser parser;
  mec::net::LimitRequestParser(parser, o);
  parser.eager(true);
  size_t used = 0;
  while (!parser.is_done()) {
    beast::error_code ec;
    const size_t n = parser.put(asio::buffer(bytes.data() + used, bytes.size() - used), ec);
    used += n;
    MEC_FUZZ_CHECK(!ec && n > 0);
  }
  const auto& b = parser.get();
  MEC_FUZZ_CHECK(b.method_string() == plain.method_string() && b.target() == plain.target() && b.version() == plain.version());
  MEC_FUZZ_CHECK(b.body() == bytes.substr(head, length) && b.keep_alive() == plain.keep_alive());
  auto x = b.begin(), y = plain.begin();
  for (; x != b.end() && y != plain.end(); ++x, ++y)
    MEC_FUZZ_CHECK(x->name_string() == y->name_string() && x->value() == y->value() && x->name() == y->name());
  MEC_FUZZ_CHECK(x == b.end() && y == plain.end());
}

}  // namespace

MEC_FUZZ_TARGET(http_request) {
  if (size < 1) return 0;
  mec::ServerOptions o;
  if (data[0] & 1) {  // small limits, so that inputs reach them
    o.max_header_bytes = 512;
    o.max_body_bytes = 1024;
    o.max_header_count = 8;
  }
  CheckPlainHead(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1), o);
  PieceStream stream(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1), data[0] | 1u);
  beast::flat_buffer buf;
  // Requests on one connection, as the server's loop reads them (keep-alive, pipelining).
  for (int i = 0; i < 4; ++i) {
    mec::net::RequestParser parser;
    mec::net::LimitRequestParser(parser, o);
    beast::error_code ec;
    http::read_header(stream, buf, parser, ec);
    if (ec) {
      CheckClientError(mec::net::RequestReadError(ec, false, o));
      return 0;
    }
    const auto too_many = mec::net::CheckHeaderCount(parser.get(), o);
    CheckClientError(too_many);
    if (too_many) return 0;
    if (!parser.is_done()) {
      http::read(stream, buf, parser, ec);
      if (ec) {
        CheckClientError(mec::net::RequestReadError(ec, true, o));
        return 0;
      }
    }
    const http::request<http::string_body> req = parser.release();
    mec::Hints hints;
    CheckClientError(mec::net::ApplyHeaderHints(req, hints));
    mec::Rng rng(1, "fuzz");
    const auto ids = mec::net::RequestIds::From(req["X-Request-Id"], req["traceparent"], req["tracestate"], rng);
    MEC_FUZZ_CHECK(ids.trace_id.size() == 32 && ids.span_id.size() == 16 && !ids.request_id.empty());
    std::string_view path = req.target();
    path = path.substr(0, path.find('?'));
    for (auto e : {mec::Endpoint::kChatCompletions, mec::Endpoint::kCompletions, mec::Endpoint::kEmbeddings}) {
      if (path != mec::EndpointPath(e)) continue;
      auto parsed = mec::ParseRequest(e, req.body());
      if (auto* err = std::get_if<mec::ApiError>(&parsed)) CheckClientError(*err);
    }
    if (!req.keep_alive()) break;
  }
  return 0;
}
