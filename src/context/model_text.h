#pragma once
// Small pieces shared by the text formats of the model files (the complexity model, the domain
// prior, the boosted trees and the second stage): exact float printing, line splitting and strict
// number parsing. No allocation except FloatText's result.

#include <charconv>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace mec {

// The shortest decimal form of `v` that reads back to exactly `v`.
std::string FloatText(float v);

// Splits the next line off `*text` (without '\n' and a trailing '\r'); false at the end.
bool NextLine(std::string_view* text, std::string_view* line);

// The space-separated fields of `line` (runs of spaces separate; no empty fields).
std::vector<std::string_view> SplitFields(std::string_view line);

// The whole of `s` as a number (no leading or trailing characters); false otherwise.
template <typename T>
bool ParseNumber(std::string_view s, T* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace mec
