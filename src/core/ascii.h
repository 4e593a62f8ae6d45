#pragma once
// ASCII case folding for protocol text (header names, hint keys, SigV4's canonical headers, the
// emulator's keyword matching). Bytes outside A-Z are left as they are, whatever the C locale:
// these texts are ASCII by their specifications, and UTF-8 bytes must pass through unchanged.

#include <string>
#include <string_view>

namespace mec {

constexpr char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

inline std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = AsciiLower(c);
  return out;
}

// Equal ignoring ASCII case.
constexpr bool AsciiIEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  return true;
}

}  // namespace mec
