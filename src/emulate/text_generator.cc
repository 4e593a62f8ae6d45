#include "emulate/text_generator.h"

#include <algorithm>

#include "context/token_estimator.h"

namespace mec {
namespace {

constexpr std::string_view kVocabulary[] = {
    "the",     "edge",    "model",   "route",   "signal",  "latency", "vehicle", "sensor", "player",  "answer",
    "network", "device",  "cloud",   "token",   "quickly", "careful", "traffic", "city",   "north",   "path",
    "safe",    "update",  "status",  "level",   "window",  "battery", "request", "frame",  "current", "data",
    "and",     "of",      "to",      "is",      "in",      "for",     "with",    "on",     "at",      "from",
    "ahead",   "clear",   "slow",    "merge",   "lane",    "quest",   "guard",   "market", "bridge",  "plan",
    "optimal", "reduce",  "expect",  "within",  "next",    "minute",  "zone",    "report", "normal",  "alert",
    "value",   "stable",  "rising",  "falling",
};
constexpr uint64_t kVocabularySize = sizeof(kVocabulary) / sizeof(kVocabulary[0]);

}  // namespace

void TextGenerator::AppendNext(std::string& out) {
  state_ = state_ * 6364136223846793005ull + 1442695040888963407ull;
  const std::string_view w = index_ == 0 && !first_.empty() ? first_ : kVocabulary[(state_ >> 33) % kVocabularySize];
  if (index_++ > 0) out.push_back(' ');
  out.append(w);
}

int64_t EmulatorPromptTokens(std::string_view text, int64_t messages) {
  return std::max<int64_t>(1, EstimatePromptTokens(text, messages));
}

}  // namespace mec
