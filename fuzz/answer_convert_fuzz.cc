// The cache's answer conversion (cache/answer_convert.h). The first byte picks the endpoint and
// whether the rest is a whole answer's body or a stream's events, one per line. Properties: a
// converted answer converts back (whole -> stream -> whole, stream -> whole -> stream), and a
// second round trip gives the same body as the first.

#include <string>
#include <string_view>

#include "cache/answer_convert.h"
#include "fuzz/fuzz_target.h"

namespace {

// whole -> stream -> whole must succeed; returns the body.
std::string RoundTrip(const mec::CachedAnswer& whole, mec::Endpoint e) {
  auto s = mec::AsStream(whole, e);
  MEC_FUZZ_CHECK(s.has_value() && s->stream && s->events.size() == 3);
  auto w = mec::AsWhole(*s, e);
  MEC_FUZZ_CHECK(w.has_value() && !w->stream);
  return w->body;
}

}  // namespace

MEC_FUZZ_TARGET(answer_convert) {
  if (size < 1) return 0;
  constexpr mec::Endpoint kEndpoints[] = {mec::Endpoint::kChatCompletions, mec::Endpoint::kCompletions,
                                          mec::Endpoint::kEmbeddings};
  const mec::Endpoint e = kEndpoints[(data[0] & 0x0f) % 3];
  const bool stream = (data[0] & 0x10) != 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);

  mec::CachedAnswer a;
  a.backend = 1;
  a.model = "m";
  a.output_tokens = 3;
  a.stream = stream;
  if (stream) {
    while (!in.empty()) {
      const size_t nl = in.find('\n');
      a.events.emplace_back(in.substr(0, nl));
      in = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
    }
    auto w = mec::AsWhole(a, e);
    if (!w) return 0;
    MEC_FUZZ_CHECK(!w->stream && w->backend == a.backend && w->output_tokens == a.output_tokens);
    const std::string first = RoundTrip(*w, e);
    MEC_FUZZ_CHECK(first == w->body);
  } else {
    a.content_type = "application/json";
    a.body = std::string(in);
    auto s = mec::AsStream(a, e);
    if (!s) return 0;
    MEC_FUZZ_CHECK(s->stream && s->events.size() == 3 && s->backend == a.backend);
    auto w = mec::AsWhole(*s, e);
    MEC_FUZZ_CHECK(w.has_value());
    MEC_FUZZ_CHECK(RoundTrip(*w, e) == w->body);
  }
  return 0;
}
