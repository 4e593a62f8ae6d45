#include "net/request_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <boost/asio/buffer.hpp>

#include "core/rng.h"

namespace mec::net {
namespace {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;

ServerOptions Limits() {
  ServerOptions o;
  o.max_header_bytes = 1024;
  o.max_body_bytes = 256;
  o.max_header_count = 8;
  return o;
}

struct Plain {
  PlainHead result;
  Request req;
  size_t head = 0, length = 0;
};

Plain ParsePlain(std::string_view bytes, const ServerOptions& o = Limits()) {
  Plain p;
  p.result = ParsePlainHead(bytes, o, p.req, p.head, p.length);
  return p;
}

// Beast's parser over the same bytes with the same limits: the request, or nullopt on an error or
// when it needs more.
std::optional<Request> ParseBeast(std::string_view bytes, const ServerOptions& o = Limits()) {
  RequestParser parser;
  LimitRequestParser(parser, o);
  parser.eager(true);
  boost::beast::error_code ec;
  size_t used = 0;
  while (!parser.is_done()) {
    const size_t n = parser.put(boost::asio::buffer(bytes.data() + used, bytes.size() - used), ec);
    used += n;
    if (ec || n == 0) return std::nullopt;
  }
  return parser.release();
}

std::vector<std::pair<std::string, std::string>> Fields(const Request& r) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& f : r) out.emplace_back(std::string(f.name_string()), std::string(f.value()));
  return out;
}

// A request the plain path took must be the request Beast reads from the same bytes.
void ExpectSameAsBeast(std::string_view bytes, const Plain& p) {
  ASSERT_EQ(p.result, PlainHead::kParsed) << bytes;
  const auto beast = ParseBeast(bytes);
  ASSERT_TRUE(beast) << "Beast refuses what the plain path took: " << bytes;
  EXPECT_EQ(p.req.method_string(), beast->method_string()) << bytes;
  EXPECT_EQ(p.req.method(), beast->method()) << bytes;
  EXPECT_EQ(p.req.target(), beast->target()) << bytes;
  EXPECT_EQ(p.req.version(), beast->version()) << bytes;
  EXPECT_EQ(p.req.keep_alive(), beast->keep_alive()) << bytes;
  EXPECT_EQ(Fields(p.req), Fields(*beast)) << bytes;
  ASSERT_LE(p.head + p.length, bytes.size());
  EXPECT_EQ(bytes.substr(p.head, p.length), beast->body()) << bytes;
}

TEST(PlainHead, ReadsTheUsualRequestsAsBeastDoes) {
  for (std::string bytes : {
           std::string("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Type: application/json\r\n"
                       "Content-Length: 2\r\n\r\n{}"),
           std::string("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"),
           std::string("GET /metrics HTTP/1.0\r\n\r\n"),
           std::string("GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"),
           std::string("POST /v1/x?a=b&c=%20 HTTP/1.1\r\nX-MEC-Deadline-Ms:   150  \r\nconnection: close\r\nContent-Length: 0\r\n\r\n"),
           std::string("PATCH /y HTTP/1.1\r\nX-Empty:\r\nX-Tab:\tv\tw\t\r\nX-Obs: caf\xc3\xa9\r\nContent-Length: 3\r\n\r\nabc"),
           std::string("DELETE /keys/k1 HTTP/1.1\r\nAuthorization: Bearer sk-1\r\n\r\n"),
           std::string("GET /x HTTP/1.1\r\nConnection: keep-alive , close\r\nProxy-Connection: keep-alive\r\n\r\n"),
       }) {
    const Plain p = ParsePlain(bytes);
    ExpectSameAsBeast(bytes, p);
  }
  // Pipelined: only the first request's head and body are counted.
  const std::string two = "POST /a HTTP/1.1\r\nContent-Length: 1\r\n\r\nxGET /b HTTP/1.1\r\n\r\n";
  const Plain p = ParsePlain(two);
  ASSERT_EQ(p.result, PlainHead::kParsed);
  EXPECT_EQ(p.head + p.length, two.find("GET"));
}

TEST(PlainHead, LeavesAnythingUnusualToBeast) {
  for (const std::string bytes : std::initializer_list<std::string>{
           "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
           "POST /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
           "POST /x HTTP/1.1\r\nContent-Length: +1\r\n\r\nx",
           "POST /x HTTP/1.1\r\nContent-Length: 1 1\r\n\r\nx",
           "POST /x HTTP/1.1\r\nContent-Length:\r\n\r\n",
           "POST /x HTTP/1.1\r\nContent-Length: 257\r\n\r\n",  // over max_body_bytes: Beast answers 413
           "GET /x HTTP/1.1\r\nX-A: 1\r\n folded\r\n\r\n",       // obs-fold
           "GET /x HTTP/1.1\r\nX-A : 1\r\n\r\n",
           "GET /x HTTP/1.1\r\n: 1\r\n\r\n",
           "GET /x HTTP/1.1\r\nX-A 1\r\n\r\n",
           "GET /x HTTP/1.1\r\nX-A: a\rb\r\n\r\n",
           "GET /x HTTP/1.1\r\nX-A: a\x01b\r\n\r\n",
           "GET /x HTTP/1.1\r\nX-A: a\x7f\r\n\r\n",
           "GET /x HTTP/1.1\nHost: x\r\n\r\n",
           "GET /x HTTP/2.0\r\n\r\n",
           "GET /x http/1.1\r\n\r\n",
           "GET  /x HTTP/1.1\r\n\r\n",
           "GET /x\ty HTTP/1.1\r\n\r\n",
           "GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n",
           "G(T /x HTTP/1.1\r\n\r\n",
           " GET /x HTTP/1.1\r\n\r\n",
           "GET /x HTTP/1.1 \r\n\r\n",
           "GET /x\r\n\r\n",
           "GET /x HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\nG: 7\r\nH: 8\r\nI: 9\r\n\r\n",  // 9 > 8 fields
           "GET /x HTTP/1.1\r\nX-Big: " + std::string(1000, 'v') + "\r\n\r\n",  // head over 1024 bytes
           "GET /x HTTP/1.1\r\nX-A: 1\n\n",                                      // a bare-LF head, incomplete for us
           "GET /x HTTP/1.1\r\nConnection: c\"messages\"ent\r\n\r\n",          // found by the fuzzer: Beast refuses it
           "GET /x HTTP/1.1\r\nConnection: close,,\r\n\r\n",
           "GET /x HTTP/1.1\r\nConnection:\r\n\r\n",
           "GET /x HTTP/1.1\r\nProxy-Connection: a b\r\n\r\n",
           "GET /x HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
       }) {
    EXPECT_EQ(ParsePlain(bytes).result, PlainHead::kUseBeast) << bytes;
  }
}

TEST(PlainHead, WaitsForTheRestOfAHead) {
  EXPECT_EQ(ParsePlain("").result, PlainHead::kNeedMore);
  EXPECT_EQ(ParsePlain("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n").result, PlainHead::kNeedMore);
  EXPECT_EQ(ParsePlain("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n\r").result, PlainHead::kNeedMore);
  // As much as the limit without a blank line: Beast answers (431).
  EXPECT_EQ(ParsePlain("GET /x HTTP/1.1\r\nX-Big: " + std::string(1100, 'v')).result, PlainHead::kUseBeast);
  // A body not all here yet is still a parsed head: the connection reads the rest.
  const Plain p = ParsePlain("POST /x HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
  EXPECT_EQ(p.result, PlainHead::kParsed);
  EXPECT_EQ(p.length, 10u);
}

// Random edits of usual requests (bytes replaced, inserted or removed, drawn from the ones that
// matter to a head: CR, LF, SP, HTAB, ':', controls, DEL, obs-text, digits, letters): whatever
// the plain path takes, Beast takes too, and reads the same request.
TEST(PlainHead, AnythingItTakesBeastReadsTheSame) {
  const std::string bases[] = {
      "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 4\r\n\r\n{\"\"}",
      "GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\nX-Request-Id: abc\r\n\r\n",
  };
  const std::string alphabet = std::string("\r\n \t:;,\"=\x01\x7f\x80\xff") + "0123456789aZ-/";
  Rng rng(3, "plain-head");
  int taken = 0, left = 0;
  for (int t = 0; t < 100000; ++t) {
    std::string bytes = bases[t % 2];
    const int edits = 1 + static_cast<int>(rng.Uniform() * 3);
    for (int e = 0; e < edits; ++e) {
      const size_t at = static_cast<size_t>(rng.Uniform() * static_cast<double>(bytes.size()));
      const char c = alphabet[static_cast<size_t>(rng.Uniform() * static_cast<double>(alphabet.size()))];
      const double kind = rng.Uniform();
      if (kind < 0.4) bytes[at] = c;
      else if (kind < 0.8) bytes.insert(bytes.begin() + static_cast<long>(at), c);
      else bytes.erase(at, 1);
    }
    const Plain p = ParsePlain(bytes);
    if (p.result != PlainHead::kParsed || p.head + p.length > bytes.size()) {
      ++left;
      continue;
    }
    ++taken;
    ExpectSameAsBeast(bytes, p);
    if (HasFailure()) return;
  }
  EXPECT_GT(taken, 1000);  // both outcomes are exercised
  EXPECT_GT(left, 1000);
}

}  // namespace
}  // namespace mec::net
