#pragma once
// An upstream's answer, parsed by Beast's HTTP/1 parser (basic_parser<false>: status line,
// fields, Content-Length, chunked and close-delimited bodies, keep-alive, limits) into what the
// gateway reads of it: the status, the two fields it uses (Content-Type, Retry-After) and the
// body bytes, copied into a buffer the caller lends (as Beast's buffer_body does).
//
// Unlike http::response_parser it keeps no field container: that cost seven allocations and
// ~2,000 instructions per answer for fields nobody read (docs/benchmarks.md).

#include <cstddef>
#include <string>
#include <string_view>

#include <boost/beast/http/basic_parser.hpp>

namespace mec::net {

class AnswerParser final : public boost::beast::http::basic_parser<false> {
 public:
  using error_code = boost::beast::error_code;
  using field = boost::beast::http::field;
  using string_view = boost::beast::string_view;  // Beast's (boost::core::string_view)

  int status() const { return status_; }
  // The first value of each field, "" when absent. Valid until the parser is destroyed.
  std::string_view content_type() const { return content_type_; }
  std::string_view retry_after() const { return retry_after_; }
  std::string_view value(field f) const;  // REQUIRES: content_type or retry_after

  // Where the next body bytes go: put() copies up to `size` bytes to `data` and ends with
  // http::error::need_buffer when that is full (or was never lent).
  void lend(char* data, size_t size) {
    out_ = data;
    out_left_ = size;
  }
  size_t left() const { return out_left_; }

 private:
  void on_request_impl(boost::beast::http::verb, string_view, string_view, int, error_code&) override {}
  void on_response_impl(int code, string_view, int, error_code&) override { status_ = code; }
  void on_field_impl(field name, string_view, string_view value, error_code&) override;
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(boost::optional<std::uint64_t> const&, error_code&) override {}
  size_t on_body_impl(string_view body, error_code& ec) override { return Take(body, ec); }
  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
  size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code& ec) override { return Take(body, ec); }
  void on_finish_impl(error_code&) override {}
  size_t Take(string_view body, error_code& ec);

  int status_ = 0;
  std::string content_type_;
  std::string retry_after_;
  bool have_type_ = false;
  bool have_retry_ = false;
  char* out_ = nullptr;
  size_t out_left_ = 0;
};

}  // namespace mec::net
