#include "route/reason_text.h"

#include <charconv>

namespace mec {

void AppendFixed(std::string& out, double v, int decimals) {
  char buf[400];  // the longest double, 1.8e308, has 309 integer digits
  const auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, decimals);
  out.append(buf, r.ptr);
}

}  // namespace mec
