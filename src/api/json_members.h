#pragma once
// The members of a JSON object as the client wrote them: each value's own bytes, found by a scan
// that only tracks strings and nesting. ParseRequest uses it to forward every field as written
// instead of re-serializing it from the parsed document (docs/benchmarks.md: the re-serializing
// cost ~5,000 CPU instructions and 5 allocations for a small chat request).
//
// REQUIRES: the text is a valid JSON object (a JSON parser has accepted it); on anything else
// the results are unspecified but stay within the text.

#include <cstddef>
#include <string>
#include <string_view>

namespace mec {

class JsonMembers {
 public:
  explicit JsonMembers(std::string_view object);
  // The next member's value, from its first to its last byte; empty after the last member.
  // Members come in the order written, as a DOM parser's iteration yields them.
  std::string_view NextValue();

 private:
  void SkipSpace();
  void SkipString();  // at the opening quote; ends past the closing one
  void SkipValue();

  std::string_view s_;
  size_t i_ = 0;
};

// `value` without the whitespace outside its strings (a value as written, in the form a minifier
// gives it, apart from the spelling of escapes and numbers, which stays the client's).
void AppendMinified(std::string_view value, std::string& out);

}  // namespace mec
