#include "route/reason_text.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <iterator>

#include <fmt/format.h>

namespace mec {
namespace {

constexpr double kPow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};

// The fast path: |v| * 10^decimals in one multiplication, rounded to an integer, then written as
// integer digits. The product is off the exact one by at most half an ulp of itself, so its
// rounding is the exact decimal's unless its fraction is within an ulp of one half; such near-ties
// (0.125 at 2 decimals: exact ties go to even) are left to std::to_chars. Returns false when it
// did not write.
bool AppendFixedFast(std::string& out, double v, int decimals) {
  if (decimals < 0 || decimals > 9) return false;
  const double scaled = std::fabs(v) * kPow10[decimals];
  if (!(scaled < 1e12)) return false;  // also NaN and infinities
  const uint64_t whole = static_cast<uint64_t>(scaled);  // truncation: floor of a positive value
  const double frac = scaled - static_cast<double>(whole);  // exact
  if (std::fabs(frac - 0.5) <= scaled * 0x1p-52 + 0x1p-60) return false;
  uint64_t n = whole + (frac > 0.5 ? 1 : 0);
  // Digits from the right: the decimals, the point, then the integer part (at least "0").
  char buf[32];
  char* at = buf + sizeof buf;
  for (int i = 0; i < decimals; ++i, n /= 10) *--at = static_cast<char>('0' + n % 10);
  if (decimals > 0) *--at = '.';
  do {
    *--at = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n > 0);
  if (std::signbit(v)) *--at = '-';  // as fmt and printf: -0.001 at 2 decimals is "-0.00"
  out.append(at, buf + sizeof buf);
  return true;
}

}  // namespace

void AppendFixed(std::string& out, double v, int decimals) {
  if (AppendFixedFast(out, v, decimals)) return;
  char buf[400];  // the longest double, 1.8e308, has 309 integer digits
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, decimals);
  out.append(buf, r.ptr);
}

void AppendShortest(std::string& out, double v) {
  if (v > 0 && v < 1e15 && v == std::floor(v)) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, static_cast<uint64_t>(v));
    out.append(buf, r.ptr);
    return;
  }
  fmt::format_to(std::back_inserter(out), "{}", v);
}

}  // namespace mec
