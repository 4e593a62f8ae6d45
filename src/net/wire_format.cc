#include "net/wire_format.h"

#include <charconv>
#include <cstring>

#include "api/hints.h"

namespace mec::net {
namespace {

namespace http = boost::beast::http;

// Two memchr scans (vectorized in libc): a plain loop cost ~4 CPU instructions per byte, ~3,000
// per request over the route headers and the upstream request's fields (docs/benchmarks.md);
// string_view::find_first_of would call memchr once per character.
bool Clean(std::string_view s) {
  return s.empty() || (std::memchr(s.data(), '\r', s.size()) == nullptr && std::memchr(s.data(), '\n', s.size()) == nullptr);
}

void AppendVersion(unsigned version, std::string& out) {
  const char v[] = {'H', 'T', 'T', 'P', '/', static_cast<char>('0' + version / 10), '.', static_cast<char>('0' + version % 10)};
  out.append(v, sizeof v);
}

}  // namespace

void AppendResponseHead(const http::response_header<>& head, std::string& out, std::string_view extra_fields,
                        std::optional<size_t> content_length) {
  AppendVersion(head.version(), out);
  const unsigned code = head.result_int();
  const char status[] = {' ', static_cast<char>('0' + code / 100), static_cast<char>('0' + code / 10 % 10),
                         static_cast<char>('0' + code % 10), ' '};
  out.append(status, sizeof status);
  const auto reason = head.reason();  // the standard one unless set
  out.append(reason.data(), reason.size());
  out += "\r\n";
  for (const auto& f : head) {
    const auto name = f.name_string();
    const auto value = f.value();
    out.append(name.data(), name.size());
    out += ": ";
    out.append(value.data(), value.size());
    out += "\r\n";
  }
  out.append(extra_fields);
  if (content_length) {
    out += "Content-Length: ";
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, *content_length).ptr;
    out.append(digits, end);
    out += "\r\n";
  }
  out += "\r\n";
}

void HeaderLines::set(std::string_view name, std::string_view value) {
  if (name.empty() || !Clean(name) || !Clean(value)) return;
  if (text_.capacity() < 512) text_.reserve(512);  // one allocation for the usual dozen fields
  text_.append(name);
  text_ += ": ";
  text_.append(value);
  text_ += "\r\n";
}

std::string_view FieldValue(const http::fields& fields, http::field name) {
  for (const auto& f : fields)
    if (f.name() == name) return f.value();
  return {};
}

std::string_view FieldValue(const http::fields& fields, std::string_view name) {
  for (const auto& f : fields)
    if (IEquals(f.name_string(), name)) return f.value();
  return {};
}

void AppendRequestHead(const RequestHead& head, std::string& out) {
  out.append(head.method);
  out += ' ';
  out.append(head.target);
  out += " HTTP/1.1\r\n";
  for (const auto& [name, value] : head.fields) {
    if (name.empty() || !Clean(name) || !Clean(value)) continue;
    out.append(name);
    out += ": ";
    out.append(value);
    out += "\r\n";
  }
  out += "Content-Length: ";
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, head.content_length).ptr;
  out.append(digits, end);
  out += "\r\n\r\n";
}

void AppendChunkSize(size_t n, std::string& out) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, n, 16).ptr;
  out.append(digits, end);
  out += "\r\n";
}

}  // namespace mec::net
