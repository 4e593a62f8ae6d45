#include <gtest/gtest.h>

#include <cctype>
#include <string>

#include "context/context_builder.h"
#include "core/rng.h"

namespace mec {
namespace {

// The classification as it was first written: twelve searches of the text and a count of its
// digits. ClassifyTask's single pass must agree with it on every text.
std::string_view Reference(std::string_view text) {
  auto has = [&](std::string_view s) { return text.find(s) != std::string_view::npos; };
  if (has("```") || has("#include") || has("def ") || has("function ") || has("};") || has("public static")) return "code";
  if ((has("\nA.") || has("\nA)")) && (has("\nB.") || has("\nB)"))) return "multiple-choice";
  if (has("summarize") || has("Summarize") || has("TL;DR")) return "summarize";
  int digits = 0;
  for (char c : text) digits += std::isdigit(static_cast<unsigned char>(c)) ? 1 : 0;
  if (digits >= 4 && (has("how many") || has("How many") || has("calculate") || has("solve") || has("Solve") || has("$") || has("%")))
    return "math";
  return "chat";
}

TEST(ClassifyTask, Examples) {
  EXPECT_EQ(ClassifyTask("hello there"), "chat");
  EXPECT_EQ(ClassifyTask("fix this:\n```cpp\nint x;\n```"), "code");
  EXPECT_EQ(ClassifyTask("Which?\nA. one\nB) two"), "multiple-choice");
  EXPECT_EQ(ClassifyTask("Which?\nA. one"), "chat");
  EXPECT_EQ(ClassifyTask("Please summarize 1234 items, how many"), "summarize");
  EXPECT_EQ(ClassifyTask("how many apples are 12 + 34?"), "math");
  EXPECT_EQ(ClassifyTask("how many apples are 1 + 2?"), "chat");  // fewer than four digits
  EXPECT_EQ(ClassifyTask("costs $1999"), "math");
  EXPECT_EQ(ClassifyTask(""), "chat");
  EXPECT_EQ(ClassifyTask("ends with a cue prefix: functio"), "chat");
  EXPECT_EQ(ClassifyTask("\nA"), "chat");
}

// Random texts made of the cues, their prefixes and near misses, filler and digits, of every
// length up to a few hundred bytes: the single pass and the searches agree on each.
TEST(ClassifyTask, AgreesWithTheSearches) {
  static const char* kPieces[] = {"```", "``", "#include", "#includ", "def ", "def", "function ", "function", "};", "}",
                                  "public static", "public stati", "\nA.", "\nA)", "\nB.", "\nB)", "\nA", "\nB", "\n",
                                  "summarize", "Summarize", "summariz", "TL;DR", "TL;D", "how many", "How many", "how man",
                                  "calculate", "calculat", "solve", "Solve", "solv", "$", "%", "0", "42", "7", "1234",
                                  " ", "a", "the quick brown fox ", "x", "s", "S", "c", "h", "H", "p", "d", "f", "T", "#", "`"};
  Rng rng(11, "classify-task");
  int differing_classes = 0;
  std::string_view first;
  for (int t = 0; t < 200000; ++t) {
    std::string text;
    const int parts = static_cast<int>(rng.Uniform() * 12);
    for (int k = 0; k < parts; ++k) text += kPieces[static_cast<size_t>(rng.Uniform() * std::size(kPieces)) % std::size(kPieces)];
    const std::string_view want = Reference(text);
    ASSERT_EQ(ClassifyTask(text), want) << "text: " << text;
    if (t == 0) first = want;
    if (want != first) ++differing_classes;
  }
  EXPECT_GT(differing_classes, 1000);  // the texts reach more than one class
}

}  // namespace
}  // namespace mec
