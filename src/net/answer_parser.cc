#include "net/answer_parser.h"

#include <algorithm>
#include <cstring>

namespace mec::net {

std::string_view AnswerParser::value(field f) const {
  return f == field::content_type ? std::string_view(content_type_) : f == field::retry_after ? std::string_view(retry_after_) : std::string_view();
}

void AnswerParser::on_field_impl(field name, string_view, string_view value, error_code&) {
  if (name == field::content_type && !have_type_) {
    have_type_ = true;
    content_type_.assign(value.data(), value.size());
  } else if (name == field::retry_after && !have_retry_) {
    have_retry_ = true;
    retry_after_.assign(value.data(), value.size());
  }
}

size_t AnswerParser::Take(string_view body, error_code& ec) {
  const size_t n = std::min(body.size(), out_left_);
  if (n > 0) std::memcpy(out_, body.data(), n);
  out_ += n;
  out_left_ -= n;
  if (n < body.size()) ec = boost::beast::http::error::need_buffer;
  return n;
}

}  // namespace mec::net
