#pragma once
// Numbers in a reason line (X-MEC-Reason), appended exactly as fmt writes "{:.Nf}":
// std::to_chars makes the same exact decimal conversion (ties to even, "nan", "inf"), without a
// format string to interpret or a string grown one character at a time. A decision writes a few
// of these; fmt cost more than a quarter of the adaptive picker. Values of a reason line (up to
// 10^12 at up to 9 decimals, not within an ulp of a tie) take a faster path: one multiplication
// and integer digits, ~140 instructions with the append against ~430 through to_chars.

#include <string>

namespace mec {

// Appends v with `decimals` digits after the point, as fmt::format("{:.<decimals>f}", v).
// REQUIRES: 0 <= decimals <= 17.
void AppendFixed(std::string& out, double v, int decimals);

// Appends v as fmt::format("{}", v) (the shortest text that reads back as v). Whole numbers
// below 10^15, as deadlines in milliseconds usually are, are written as integer digits (fmt's
// shortest-form search cost ~3% of a decision); other values go through fmt.
void AppendShortest(std::string& out, double v);

}  // namespace mec
