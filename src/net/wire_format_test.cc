#include "net/wire_format.h"

#include <sstream>

#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>

namespace mec::net {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;

// What Beast's own serializer writes for a message (the reference for the hand-written bytes).
template <class Message>
std::string BeastBytes(Message& m) {
  std::string out;
  http::serializer<Message::is_request::value, typename Message::body_type> sr{m};
  beast::error_code ec;
  while (!sr.is_done()) {
    sr.next(ec, [&](beast::error_code&, const auto& buffers) {
      out += beast::buffers_to_string(buffers);
      sr.consume(beast::buffer_bytes(buffers));
    });
    if (ec) break;
  }
  return out;
}

TEST(WireFormat, ResponseHeadIsBeastsBytes) {
  http::response<http::string_body> res{http::status::ok, 11};
  res.set(http::field::content_type, "application/json");
  res.set("X-MEC-Tier", "edge");
  res.set("X-MEC-Reason", "deadline 150 ms: edge-a p95 92 ms");
  res.keep_alive(true);
  res.body() = R"({"id":"x"})";
  res.prepare_payload();
  std::string ours;
  AppendResponseHead(res.base(), ours);
  ours += res.body();
  EXPECT_EQ(ours, BeastBytes(res));
  EXPECT_EQ(ours.substr(0, 17), "HTTP/1.1 200 OK\r\n");
}

TEST(WireFormat, StatusReasonVersionAndClose) {
  for (auto status : {http::status::too_many_requests, http::status::service_unavailable, http::status::not_found}) {
    http::response<http::string_body> res{status, 10};
    res.keep_alive(false);
    res.set(http::field::retry_after, "3");
    res.body() = "{}";
    res.prepare_payload();
    std::string ours;
    AppendResponseHead(res.base(), ours);
    ours += res.body();
    EXPECT_EQ(ours, BeastBytes(res)) << static_cast<int>(status);
  }
  http::response<http::string_body> custom{http::status::ok, 11};
  custom.reason("Fine");
  std::string ours;
  AppendResponseHead(custom.base(), ours);
  EXPECT_EQ(ours, "HTTP/1.1 200 Fine\r\n\r\n");
}

TEST(WireFormat, ChunkedHeadAndFramesAreBeastsBytes) {
  http::response<http::empty_body> head{http::status::ok, 11};
  head.set(http::field::content_type, "text/event-stream");
  head.chunked(true);
  std::string ours;
  AppendResponseHead(head.base(), ours);
  std::ostringstream theirs;
  theirs << head.base();
  EXPECT_EQ(ours, theirs.str());  // Beast's operator<< writes the head as its serializer does
  EXPECT_NE(ours.find("Transfer-Encoding: chunked\r\n"), std::string::npos);

  for (size_t n : {1u, 15u, 16u, 255u, 4096u, 70000u}) {
    const std::string data(n, 'x');
    std::string frame;
    AppendChunkSize(n, frame);
    frame += data;
    frame += kChunkEnd;
    EXPECT_EQ(frame, beast::buffers_to_string(http::make_chunk(boost::asio::buffer(data)))) << n;
  }
  EXPECT_EQ(std::string(kLastChunk), beast::buffers_to_string(http::make_chunk_last()));
}

TEST(WireFormat, RequestHeadIsBeastsBytes) {
  http::request<http::string_body> req{http::verb::post, "/v1/chat/completions", 11};
  req.set(http::field::host, "edge.example");
  req.set(http::field::content_type, "application/json");
  req.set(http::field::accept, "text/event-stream");
  req.set(http::field::user_agent, "mecrouter/0.1");
  req.set("Authorization", "Bearer sk-1");
  req.set("X-Request-Id", "abc");
  req.keep_alive(true);
  req.body() = R"({"model":"m","messages":[]})";
  req.prepare_payload();

  RequestHead head;
  head.target = "/v1/chat/completions";
  head.fields = {{"Host", "edge.example"}, {"Content-Type", "application/json"}, {"Accept", "text/event-stream"},
                 {"User-Agent", "mecrouter/0.1"}, {"Authorization", "Bearer sk-1"}, {"X-Request-Id", "abc"}};
  head.content_length = req.body().size();
  std::string ours;
  AppendRequestHead(head, ours);
  ours += req.body();
  EXPECT_EQ(ours, BeastBytes(req));
}

TEST(WireFormat, RequestHeadDropsFieldsThatWouldInjectLines) {
  RequestHead head;
  head.target = "/v1/x";
  head.fields = {{"X-Request-Id", "a\r\nEvil: 1"}, {"Bad\nName", "v"}, {"", "v"}, {"Ok", "fine"}};
  head.content_length = 0;
  std::string ours;
  AppendRequestHead(head, ours);
  EXPECT_EQ(ours, "POST /v1/x HTTP/1.1\r\nOk: fine\r\nContent-Length: 0\r\n\r\n");
}

// A CR or LF at every position of values of every length up to 80 is found, and every other byte
// value (0x0b, 0x0c, 0x8d, 0xff ...) passes, in short values and in a long one. (Reading eight
// bytes at a time was tried against the two memchr calls: it cost more, docs/benchmarks.md.)
TEST(WireFormat, ACrOrLfAnywhereInAValueIsFound) {
  for (size_t len = 1; len <= 80; ++len)
    for (size_t at = 0; at < len; ++at)
      for (char bad : {'\r', '\n'}) {
        std::string value(len, 'v');
        value[at] = bad;
        HeaderLines lines;
        lines.set("X-Test", value);
        EXPECT_EQ(lines.text(), "") << len << " " << at;
      }
  std::string every;
  for (int c = 1; c < 256; ++c)
    if (c != '\r' && c != '\n') every += static_cast<char>(c);
  HeaderLines lines;
  lines.set("X-Test", every);
  EXPECT_EQ(lines.text(), "X-Test: " + every + "\r\n");
  for (size_t len : {1, 3, 5, 9, 17}) {  // each byte value in each short way of reading
    for (int c = 1; c < 256; ++c) {
      if (c == '\r' || c == '\n') continue;
      HeaderLines one;
      one.set("X", std::string(len, static_cast<char>(c)));
      EXPECT_EQ(one.text().size(), 5 + len) << c << " " << len;
    }
  }
}

// FieldValue agrees with Beast's lookup: by enum and by name in any case, "" when absent, and
// the first of repeated fields.
TEST(WireFormat, FieldValueFindsWhatBeastFinds) {
  http::request<http::string_body> req{http::verb::post, "/v1/x", 11};
  req.set(http::field::content_type, "application/json");
  req.insert("X-Request-Id", "first");
  req.insert("x-request-id", "second");
  req.set(http::field::cache_control, "no-cache");
  EXPECT_EQ(FieldValue(req, http::field::content_type), req[http::field::content_type]);
  EXPECT_EQ(FieldValue(req, http::field::cache_control), "no-cache");
  EXPECT_EQ(FieldValue(req, http::field::authorization), "");
  EXPECT_EQ(FieldValue(req, "content-TYPE"), "application/json");
  EXPECT_EQ(FieldValue(req, "X-REQUEST-ID"), "first");
  EXPECT_EQ(FieldValue(req, "X-Request"), "");
  EXPECT_EQ(FieldValue(req, "traceparent"), "");
}

TEST(WireFormat, HeaderLinesGoAfterTheMessagesFieldsAsBeastWouldWriteThem) {
  http::response<http::string_body> res{http::status::ok, 11};
  res.set(http::field::content_type, "application/json");
  res.body() = "{}";
  res.prepare_payload();
  HeaderLines lines;
  lines.set("X-MEC-Tier", "edge");
  lines.set(http::field::retry_after, "2");
  lines.set("X-Bad", "one\r\nInjected: yes");  // left out
  std::string ours;
  AppendResponseHead(res.base(), ours, lines.text());
  ours += res.body();
  // The same fields set on the message itself, in the same order.
  res.set("X-MEC-Tier", "edge");
  res.set(http::field::retry_after, "2");
  EXPECT_EQ(ours, BeastBytes(res));
  EXPECT_EQ(ours.find("Injected"), std::string::npos);
}

// A length given to AppendResponseHead is the Content-Length line prepare_payload would add.
TEST(WireFormat, AGivenContentLengthIsWhatPreparePayloadWrites) {
  http::response<http::string_body> res{http::status::bad_request, 11};
  res.set(http::field::content_type, "application/json");
  res.keep_alive(false);
  res.body() = R"({"error":{}})";
  std::string ours;
  AppendResponseHead(res.base(), ours, {}, res.body().size());
  ours += res.body();
  res.prepare_payload();
  EXPECT_EQ(ours, BeastBytes(res));
}

}  // namespace
}  // namespace mec::net
