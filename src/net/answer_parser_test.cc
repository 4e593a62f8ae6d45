#include "net/answer_parser.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include <boost/beast/http.hpp>

namespace mec::net {
namespace {

namespace http = boost::beast::http;

// What a parser made of an answer fed in pieces of at most `step` bytes, with a body buffer of
// `room` bytes lent at a time (as UpstreamCall::ReadSome does).
struct Outcome {
  int status = 0;
  std::string type, retry, body, error;
  bool keep_alive = false, done = false;
  bool operator==(const Outcome&) const = default;
};

template <typename Parser, typename Lend, typename Left>
Outcome Run(Parser& p, const std::string& wire, size_t step, size_t room, Lend lend, Left left, bool eof) {
  Outcome o;
  std::string pending;  // bytes given but not yet taken (a flat buffer)
  size_t at = 0;
  std::vector<char> out(room);
  boost::beast::error_code ec;
  for (int guard = 0; guard < 100000 && !p.is_done(); ++guard) {
    if (p.is_header_done()) lend(p, out.data(), room);
    if (pending.empty() || ec == http::error::need_more) {
      if (at == wire.size()) break;
      const size_t n = std::min(step, wire.size() - at);
      pending.append(wire, at, n);
      at += n;
    }
    ec = {};
    const size_t used = p.put(boost::asio::buffer(pending), ec);
    pending.erase(0, used);
    if (p.is_header_done()) o.body.append(out.data(), room - left(p));
    if (ec && ec != http::error::need_more && ec != http::error::need_buffer) {
      o.error = ec.message();
      break;
    }
  }
  if (o.error.empty() && !p.is_done() && eof) {
    ec = {};
    p.put_eof(ec);
    if (ec) o.error = ec.message();
  }
  if (p.is_header_done()) o.keep_alive = p.keep_alive();
  o.done = p.is_done();
  return o;
}

Outcome WithBeast(const std::string& wire, size_t step, size_t room, bool eof) {
  http::response_parser<http::buffer_body> p;
  p.body_limit(boost::none);
  p.header_limit(64 * 1024);
  p.get().body().data = nullptr;
  auto lend = [](auto& q, char* d, size_t n) {
    q.get().body().data = d;
    q.get().body().size = n;
  };
  auto left = [](auto& q) { return q.get().body().size; };
  Outcome o = Run(p, wire, step, room, lend, left, eof);
  if (p.is_header_done()) {
    o.status = p.get().result_int();
    if (auto it = p.get().find(http::field::content_type); it != p.get().end()) o.type = std::string(it->value());
    if (auto it = p.get().find(http::field::retry_after); it != p.get().end()) o.retry = std::string(it->value());
  }
  return o;
}

Outcome WithAnswerParser(const std::string& wire, size_t step, size_t room, bool eof) {
  AnswerParser p;
  p.body_limit(boost::none);
  p.header_limit(64 * 1024);
  auto lend = [](AnswerParser& q, char* d, size_t n) { q.lend(d, n); };
  auto left = [](AnswerParser& q) { return q.left(); };
  Outcome o = Run(p, wire, step, room, lend, left, eof);
  if (p.is_header_done()) {
    o.status = p.status();
    o.type = std::string(p.content_type());
    o.retry = std::string(p.retry_after());
    EXPECT_EQ(p.value(http::field::content_type), p.content_type());
    EXPECT_EQ(p.value(http::field::retry_after), p.retry_after());
  }
  return o;
}

const std::vector<std::string>& Answers() {
  static const std::vector<std::string> a = {
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 27\r\n\r\n{\"id\":\"x\",\"choices\":[1,2]}",
      "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
      "d\r\ndata: {\"a\":1}\n\r\n7\r\ndata: \n\r\n0\r\n\r\n",
      "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 2.5\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
      "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 7\r\nRetry-After: 9\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{\"read\":\"until the end\"}",
      "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: a\r\nContent-Type: b\r\nContent-Length: 3\r\n\r\nabc",
      "HTTP/1.1 204 No Content\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",          // conflicting lengths
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",                     // bad chunk size
      "HTTP/1.1 2000 OK\r\n\r\n",                                                      // bad status
      "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",                            // cut short
      "HTTP/1.1 200 OK\r\nBad Field\r\n\r\n",
      std::string("HTTP/1.1 200 OK\r\nContent-Length: 70000\r\n\r\n") + std::string(70000, 'x'),
  };
  return a;
}

TEST(AnswerParser, ReadsWhatBeastsResponseParserReads) {
  for (const std::string& wire : Answers())
    for (size_t step : {1u, 2u, 7u, 64u, 100000u})
      for (size_t room : {1u, 5u, 16384u})
        for (bool eof : {false, true}) {
          const Outcome want = WithBeast(wire, step, room, eof);
          const Outcome got = WithAnswerParser(wire, step, room, eof);
          EXPECT_EQ(got, want) << "answer " << wire.substr(0, 60) << " step " << step << " room " << room << " eof " << eof
                               << "\n got: " << got.status << " [" << got.type << "] [" << got.retry << "] body " << got.body.size()
                               << " err '" << got.error << "' done " << got.done << "\nwant: " << want.status << " [" << want.type << "] ["
                               << want.retry << "] body " << want.body.size() << " err '" << want.error << "' done " << want.done;
        }
}

TEST(AnswerParser, AgreesWithBeastOnRandomEditsOfAnswers) {
  std::mt19937 rng(7);
  const std::string alphabet = "HTP/1.0 2:\r\n;abcx-Lengthcunkd";
  for (int i = 0; i < 20000; ++i) {
    std::string wire = Answers()[rng() % Answers().size()];
    for (int e = 1 + static_cast<int>(rng() % 3); e > 0 && !wire.empty(); --e) {
      const size_t at = rng() % wire.size();
      switch (rng() % 3) {
        case 0: wire.erase(at, 1); break;
        case 1: wire.insert(at, 1, alphabet[rng() % alphabet.size()]); break;
        default: wire[at] = alphabet[rng() % alphabet.size()];
      }
    }
    const size_t step = 1 + rng() % 40;
    const size_t room = 1 + rng() % 64;
    const bool eof = rng() % 2;
    ASSERT_EQ(WithAnswerParser(wire, step, room, eof), WithBeast(wire, step, room, eof)) << wire;
  }
}

}  // namespace
}  // namespace mec::net
