// The upstream SSE parser (api/sse.h). The first byte seeds the split of the rest into chunks;
// property: the events do not depend on how the bytes were split (the stream fed whole and fed in
// chunks of 1..16 bytes give the same events). Then once more with a 64-byte event limit, where
// only crash-freedom is checked (the two feeds may stop at different points).

#include <string>
#include <string_view>
#include <vector>

#include "api/sse.h"
#include "fuzz/fuzz_target.h"

namespace {

struct Fed {
  std::vector<std::string> events;
  bool ok = true;
};

Fed FeedChunked(std::string_view in, uint32_t seed, size_t limit) {
  mec::SseParser p;
  p.max_event_bytes = limit;
  Fed out;
  const auto on_data = [&](std::string_view d) { out.events.emplace_back(d); };
  if (seed == 0) {
    out.ok = p.Feed(in, on_data);
    return out;
  }
  uint32_t x = seed;
  while (!in.empty() && out.ok) {
    x = x * 1664525u + 1013904223u;  // a small LCG: chunk sizes 1..16
    const size_t n = std::min<size_t>(in.size(), 1 + (x >> 28));
    out.ok = p.Feed(in.substr(0, n), on_data);
    in.remove_prefix(n);
  }
  return out;
}

}  // namespace

MEC_FUZZ_TARGET(sse) {
  if (size < 1) return 0;
  const uint32_t seed = data[0] | 1u;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  const size_t kDefault = mec::SseParser().max_event_bytes;
  const Fed whole = FeedChunked(in, 0, kDefault);
  const Fed chunks = FeedChunked(in, seed, kDefault);
  if (in.size() < kDefault) MEC_FUZZ_CHECK(whole.ok && chunks.ok);
  MEC_FUZZ_CHECK(whole.events == chunks.events);
  (void)FeedChunked(in, seed, 64);
  (void)FeedChunked(in, 0, 64);
  return 0;
}
