// The X-MEC-* hint headers (api/hints.h): each input line is one header, its first byte choosing
// the header's name (one of the eight, or the raw "Name: value" that follows) and the rest its
// value; the lines are applied in order to one Hints, as the proxy applies a request's headers.
// Properties: an error is a 400 naming the header; a name IsHintHeader rejects is an error; what
// is accepted is in its documented range.

#include <cmath>
#include <string_view>

#include "api/hints.h"
#include "fuzz/fuzz_target.h"

namespace {

constexpr std::string_view kNames[] = {"X-MEC-Deadline-Ms", "X-MEC-TTFT-Deadline-Ms", "X-MEC-Min-Quality", "X-MEC-Privacy",
                                       "X-MEC-Policy",      "X-MEC-Network",          "X-MEC-Device",      "X-MEC-Use-Case"};

bool Fraction(const std::optional<double>& v) { return !v || (*v >= 0 && *v <= 1); }
bool NonNegative(const std::optional<double>& v) { return !v || (std::isfinite(*v) && *v >= 0); }
bool Positive(const std::optional<double>& v) { return !v || (std::isfinite(*v) && *v > 0); }

void CheckRanges(const mec::Hints& h) {
  MEC_FUZZ_CHECK(Positive(h.deadline_ms) && Positive(h.ttft_deadline_ms) && Fraction(h.min_quality));
  if (h.network) {
    const auto& n = *h.network;
    MEC_FUZZ_CHECK(NonNegative(n.rtt_edge_ms) && NonNegative(n.rtt_cloud_ms) && NonNegative(n.down_mbps) &&
                   NonNegative(n.up_mbps) && Fraction(n.loss));
  }
  if (h.device) MEC_FUZZ_CHECK(Fraction(h.device->battery));
}

}  // namespace

MEC_FUZZ_TARGET(hints) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  mec::Hints hints;
  while (!in.empty()) {
    const size_t nl = in.find('\n');
    std::string_view line = in.substr(0, nl);
    in = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
    if (line.empty()) continue;
    const auto pick = static_cast<unsigned char>(line.front());
    line.remove_prefix(1);
    std::string_view name, value;
    if (pick % 9 < 8) {
      name = kNames[pick % 9];
      value = line;
    } else {  // a raw header line
      const size_t colon = line.find(':');
      name = line.substr(0, colon);
      value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    }
    (void)mec::HintHeaderForBodyKey(value);
    const std::optional<mec::ApiError> err = mec::ApplyHint(name, value, hints);
    if (!mec::IsHintHeader(name)) MEC_FUZZ_CHECK(err.has_value());
    if (err) {
      MEC_FUZZ_CHECK(err->http_status == 400 && err->param == name && !err->message.empty());
      break;  // the proxy stops at the first bad hint
    }
    CheckRanges(hints);
  }
  return 0;
}
