#pragma once
// HTTP/1.1 bytes written by hand on the hot path, where Boost.Beast's serializer walks nested
// buffer-sequence views (about 15,000 CPU instructions per message in callgrind, docs/benchmarks.md):
// a response head, a request head and chunked-encoding frames, each appended to a caller's string
// so that a connection reuses one buffer. The bytes are exactly what Beast's serializer writes
// (wire_format_test.cc compares them); reading still uses Beast's parser.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>

namespace mec::net {

// "HTTP/1.1 200 OK\r\n", every field as "Name: value\r\n" in insertion order, then
// `extra_fields` (lines in that form, see HeaderLines), then "Content-Length: N\r\n" when
// `content_length` is given (as Beast's prepare_payload would add it, without a field), then "\r\n".
void AppendResponseHead(const boost::beast::http::response_header<>& head, std::string& out, std::string_view extra_fields = {},
                        std::optional<size_t> content_length = std::nullopt);

// Header fields as wire lines, built without Beast's field container (one allocation per field
// there). Same set() calls as a Beast message, so one template fills either; unlike Beast's set,
// a name set twice appears twice. A field whose name or value holds CR or LF is left out.
class HeaderLines {
 public:
  void set(std::string_view name, std::string_view value);
  void set(boost::beast::http::field f, std::string_view value) { set(boost::beast::http::to_string(f), value); }
  std::string_view text() const { return text_; }

 private:
  std::string text_;
};

// A field's value, "" when absent: the first of the message's fields (in their order) with that
// name. A walk of the few fields comparing enums (or a case-insensitive name, for a field Beast
// has no enum for) instead of Beast's lookup, which searches its tree comparing names without
// case (~500 instructions for Content-Type).
std::string_view FieldValue(const boost::beast::http::fields& fields, boost::beast::http::field name);
std::string_view FieldValue(const boost::beast::http::fields& fields, std::string_view name);

// A request head: "POST /v1/chat/completions HTTP/1.1\r\n", the fields, "Content-Length: N\r\n",
// then "\r\n". A field whose name or value holds CR or LF is left out (no header injection).
struct RequestHead {
  std::string_view method = "POST";
  std::string_view target;
  std::vector<std::pair<std::string_view, std::string_view>> fields;
  size_t content_length = 0;
};
void AppendRequestHead(const RequestHead& head, std::string& out);

// Chunked transfer encoding: the size line before `n` bytes of data ("1a\r\n"); the data is then
// followed by kChunkEnd. kLastChunk ends the body (no trailers).
void AppendChunkSize(size_t n, std::string& out);
inline constexpr std::string_view kChunkEnd = "\r\n";
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

}  // namespace mec::net
