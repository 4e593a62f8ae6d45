#include "api/json_members.h"

#include <cstring>

namespace mec {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

// Past the closing quote of the string that opens at `open` (or the end of `s`).
size_t StringEnd(std::string_view s, size_t open) {
  size_t i = open + 1;
  for (;;) {
    const void* q = i < s.size() ? std::memchr(s.data() + i, '"', s.size() - i) : nullptr;
    if (!q) return s.size();
    const size_t at = static_cast<const char*>(q) - s.data();
    size_t backslashes = 0;  // an odd run of them escapes this quote
    while (at - backslashes > i && s[at - backslashes - 1] == '\\') ++backslashes;
    i = at + 1;
    if (backslashes % 2 == 0) return i;
  }
}

}  // namespace

JsonMembers::JsonMembers(std::string_view object) : s_(object) {
  const size_t open = s_.find('{');
  i_ = open == std::string_view::npos ? s_.size() : open + 1;
}

void JsonMembers::SkipSpace() {
  while (i_ < s_.size() && IsSpace(s_[i_])) ++i_;
}

void JsonMembers::SkipString() { i_ = StringEnd(s_, i_); }

void JsonMembers::SkipValue() {
  if (i_ >= s_.size()) return;
  const char c = s_[i_];
  if (c == '"') return SkipString();
  if (c != '{' && c != '[') {  // a number, true, false, null
    while (i_ < s_.size() && s_[i_] != ',' && s_[i_] != '}' && s_[i_] != ']' && !IsSpace(s_[i_])) ++i_;
    return;
  }
  int depth = 0;
  while (i_ < s_.size()) {
    const char d = s_[i_];
    if (d == '"') {
      SkipString();
      continue;
    }
    ++i_;
    if (d == '{' || d == '[') ++depth;
    else if ((d == '}' || d == ']') && --depth == 0) return;
  }
}

std::string_view JsonMembers::NextValue() {
  SkipSpace();
  if (i_ < s_.size() && s_[i_] == ',') {
    ++i_;
    SkipSpace();
  }
  if (i_ >= s_.size() || s_[i_] != '"') return {};  // '}': no more members
  SkipString();  // the key
  SkipSpace();
  if (i_ < s_.size()) ++i_;  // ':'
  SkipSpace();
  const size_t start = i_;
  SkipValue();
  return s_.substr(start, i_ - start);
}

void AppendMinified(std::string_view value, std::string& out) {
  size_t i = 0;
  while (i < value.size()) {
    const char c = value[i];
    if (IsSpace(c)) {
      ++i;
      continue;
    }
    if (c != '"') {
      out.push_back(c);
      ++i;
      continue;
    }
    const size_t j = StringEnd(value, i);  // the string, escapes and all
    out.append(value.substr(i, j - i));
    i = j;
  }
}

}  // namespace mec
