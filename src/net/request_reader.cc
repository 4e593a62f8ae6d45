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

namespace {

// RFC 9110 tchar: ! # $ % & ' * + - . ^ _ ` | ~ DIGIT ALPHA.
constexpr bool IsTchar(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '!' || c == '#' || c == '$' ||
         c == '%' || c == '&' || c == '\'' || c == '*' || c == '+' || c == '-' || c == '.' || c == '^' || c == '_' ||
         c == '`' || c == '|' || c == '~';
}
// Byte classes, so that each scan below is one table lookup a byte. None holds CR: every scan
// stops at the CRLF that ends each line, so none runs past the head.
struct CharTable {
  bool tchar[256] = {};
  bool target[256] = {};  // visible ASCII
  bool value[256] = {};   // field-value bytes: VCHAR, SP, HTAB, obs-text
  constexpr CharTable() {
    for (int c = 0; c < 256; ++c) {
      tchar[c] = IsTchar(static_cast<unsigned char>(c));
      target[c] = c > 0x20 && c < 0x7f;
      value[c] = c == '\t' || (c >= 0x20 && c != 0x7f);
    }
  }
};
constexpr CharTable kChars;

const char* Scan(const char* p, const bool (&table)[256]) {
  while (table[static_cast<unsigned char>(*p)]) ++p;
  return p;
}

std::string_view TrimOws(const char* b, const char* e) {
  while (b < e && (*b == ' ' || *b == '\t')) ++b;
  while (e > b && (e[-1] == ' ' || e[-1] == '\t')) --e;
  return {b, static_cast<size_t>(e - b)};
}

// token *( OWS "," OWS token ): a list Beast's parser surely accepts (it checks Connection and
// Proxy-Connection as token lists and refuses the request otherwise); anything looser goes to it.
bool SimpleTokenList(std::string_view v) {
  const char* p = v.data();
  const char* const e = p + v.size();
  for (;;) {
    const char* const token = p;
    while (p < e && kChars.tchar[static_cast<unsigned char>(*p)]) ++p;
    if (p == token) return false;
    while (p < e && (*p == ' ' || *p == '\t')) ++p;
    if (p == e) return true;
    if (*p++ != ',') return false;
    while (p < e && (*p == ' ' || *p == '\t')) ++p;
  }
}

}  // namespace

PlainHead ParsePlainHead(std::string_view bytes, const ServerOptions& o, http::request<http::string_body>& req,
                         size_t& head_bytes, size_t& content_length) {
  const size_t limit = static_cast<size_t>(std::max<int64_t>(o.max_header_bytes, 0));
  const size_t end = bytes.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    // A bare LF may end a head for Beast (a blank line that is not CRLF CRLF): not waited for.
    for (size_t lf = bytes.find('\n'); lf != std::string_view::npos; lf = bytes.find('\n', lf + 1))
      if (lf == 0 || bytes[lf - 1] != '\r') return PlainHead::kUseBeast;
    return bytes.size() < limit ? PlainHead::kNeedMore : PlainHead::kUseBeast;
  }
  head_bytes = end + 4;
  if (head_bytes > limit) return PlainHead::kUseBeast;
  // [p, e): every line of the head with its CRLF; the blank line's CRLF is after e.
  const char* p = bytes.data();
  const char* const e = p + end + 2;

  // The request line: method SP target SP HTTP/1.x CRLF.
  const char* const method = p;
  p = Scan(p, kChars.tchar);
  if (p == method || *p != ' ') return PlainHead::kUseBeast;
  const char* const target = ++p;
  p = Scan(p, kChars.target);
  if (p == target || *p != ' ' || e - p < 11) return PlainHead::kUseBeast;
  const std::string_view version(p, 11);
  if (version != " HTTP/1.1\r\n" && version != " HTTP/1.0\r\n") return PlainHead::kUseBeast;
  req = {};
  req.method_string(std::string_view(method, static_cast<size_t>(target - 1 - method)));
  req.target(std::string_view(target, static_cast<size_t>(p - target)));
  req.version(version[8] == '1' ? 11 : 10);
  p += 11;

  int fields = 0;
  bool has_length = false;
  content_length = 0;
  while (p < e) {
    const char* const name_begin = p;
    p = Scan(p, kChars.tchar);
    if (p == name_begin || *p != ':' || ++fields > o.max_header_count) return PlainHead::kUseBeast;
    const std::string_view name(name_begin, static_cast<size_t>(p - name_begin));
    const char* const value_begin = ++p;
    p = Scan(p, kChars.value);
    if (*p != '\r' || p[1] != '\n') return PlainHead::kUseBeast;  // a bare CR or LF, a control byte
    const std::string_view value = TrimOws(value_begin, p);
    p += 2;
    const http::field f = http::string_to_field(name);
    if (f == http::field::transfer_encoding || f == http::field::upgrade) return PlainHead::kUseBeast;
    if ((f == http::field::connection || f == http::field::proxy_connection) && !SimpleTokenList(value))
      return PlainHead::kUseBeast;
    if (f == http::field::content_length) {
      if (has_length || value.empty() || value.size() > 18) return PlainHead::kUseBeast;
      for (char c : value) {
        if (c < '0' || c > '9') return PlainHead::kUseBeast;
        content_length = content_length * 10 + static_cast<size_t>(c - '0');
      }
      has_length = true;
    }
    req.insert(f, name, value);
  }
  if (content_length > static_cast<uint64_t>(std::max<int64_t>(o.max_body_bytes, 0))) return PlainHead::kUseBeast;
  return PlainHead::kParsed;
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
