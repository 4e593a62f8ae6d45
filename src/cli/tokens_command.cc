// `mecrouter tokens`: the token estimate of src/context/token_estimator.h for texts on the command
// line or in a JSONL file, so tools (tests/node/tools/token_check.mjs) can compare it with a real
// tokenizer (docs/tokens.md).

#include <simdjson.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/flags.h"
#include "context/token_estimator.h"
#include "core/clock.h"
#include "core/json_writer.h"

namespace mec::cli {
namespace {

constexpr const char* kTokensUsage =
    "usage:\n"
    "  mecrouter tokens --text TEXT\n"
    "      prints the estimated token count of TEXT\n"
    "  mecrouter tokens --jsonl FILE|- [--features] [--bench N]\n"
    "      reads JSON lines {\"item_id\", \"prompt\"} or {\"text\"}; prints one JSON line per input:\n"
    "      {\"line\", \"item_id\", \"bytes\", \"estimate\"[, \"features\"]}; --features adds the counts the\n"
    "      estimate weighs (names on the first line, {\"feature_names\": [...]}); --bench N times N\n"
    "      passes over all texts and prints ns per KB on stderr\n";

struct Input {
  size_t line = 0;
  std::string item_id;  // empty when the record has none
  std::string text;
};

// Reads the records of a JSONL stream; returns false (after printing why) on a malformed line.
bool ReadInputs(std::istream& in, const std::string& name, std::vector<Input>* out) {
  simdjson::ondemand::parser parser;
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    simdjson::padded_string padded(line);
    simdjson::ondemand::document doc;
    simdjson::ondemand::object obj;
    if (parser.iterate(padded).get(doc) || doc.get_object().get(obj)) {
      std::fprintf(stderr, "mecrouter tokens: %s:%zu: not a JSON object\n", name.c_str(), n);
      return false;
    }
    Input rec;
    rec.line = n;
    bool has_text = false;
    for (auto field : obj) {
      std::string_view key, value;
      if (field.unescaped_key().get(key)) return false;
      if (key != "item_id" && key != "prompt" && key != "text") continue;
      if (field.value().get_string().get(value)) {
        std::fprintf(stderr, "mecrouter tokens: %s:%zu: \"%.*s\" is not a string\n", name.c_str(), n,
                     static_cast<int>(key.size()), key.data());
        return false;
      }
      if (key == "item_id") {
        rec.item_id = std::string(value);
      } else {
        rec.text = std::string(value);
        has_text = true;
      }
    }
    if (!has_text) {
      std::fprintf(stderr, "mecrouter tokens: %s:%zu: no \"prompt\" or \"text\"\n", name.c_str(), n);
      return false;
    }
    out->push_back(std::move(rec));
  }
  return true;
}

void PrintFeatureNames() {
  std::string s;
  JsonWriter w(s);
  w.BeginObject().Key("feature_names").BeginArray();
  for (std::string_view name : TokenFeatureNames()) w.String(name);
  w.EndArray().EndObject();
  std::puts(s.c_str());
}

void PrintEstimate(const Input& in, bool features) {
  std::string s;
  JsonWriter w(s);
  w.BeginObject().Field("line", static_cast<int64_t>(in.line));
  if (!in.item_id.empty()) w.Field("item_id", in.item_id);
  w.Field("bytes", static_cast<int64_t>(in.text.size())).Field("estimate", EstimateTokens(in.text));
  if (features) {
    w.Key("features").BeginArray();
    for (double v : CountTokenFeatures(in.text)) w.Number(v);
    w.EndArray();
  }
  w.EndObject();
  std::puts(s.c_str());
}

void Bench(const std::vector<Input>& inputs, long passes) {
  SystemClock clock;
  size_t bytes = 0;
  for (const auto& in : inputs) bytes += in.text.size();
  int64_t sink = 0;
  const TimePoint start = clock.Now();
  for (long p = 0; p < passes; ++p) {
    for (const auto& in : inputs) sink += EstimateTokens(in.text);
  }
  const double ns = std::chrono::duration<double, std::nano>(clock.Now() - start).count();
  const double kb = static_cast<double>(bytes) * static_cast<double>(passes) / 1024.0;
  std::fprintf(stderr, "tokens bench: %zu texts, %zu bytes, %ld passes: %.1f ns per KB (%.1f ns per text) [%lld]\n",
               inputs.size(), bytes, passes, kb > 0 ? ns / kb : 0.0,
               inputs.empty() ? 0.0 : ns / static_cast<double>(inputs.size() * passes), static_cast<long long>(sink));
}

}  // namespace

int RunTokens(int argc, char** argv) {
  Flags flags(argc, argv, {"text", "jsonl", "bench"});
  if (!flags.ok() || !flags.positional().empty() || (flags.Has("text") == flags.Has("jsonl"))) {
    if (!flags.ok()) std::fprintf(stderr, "mecrouter tokens: %s\n", flags.error().c_str());
    std::fputs(kTokensUsage, stderr);
    return 2;
  }
  if (auto text = flags.Get("text")) {
    std::printf("%lld\n", static_cast<long long>(EstimateTokens(*text)));
    return 0;
  }
  const std::string path = *flags.Get("jsonl");
  std::vector<Input> inputs;
  bool ok;
  if (path == "-") {
    ok = ReadInputs(std::cin, "stdin", &inputs);
  } else {
    std::ifstream file(path);
    if (!file) {
      std::fprintf(stderr, "mecrouter tokens: cannot open %s\n", path.c_str());
      return 1;
    }
    ok = ReadInputs(file, path, &inputs);
  }
  if (!ok) return 1;
  const bool features = flags.Has("features");
  if (features) PrintFeatureNames();
  for (const auto& in : inputs) PrintEstimate(in, features);
  if (auto passes = flags.Get("bench")) Bench(inputs, std::max(1L, std::atol(passes->c_str())));
  return 0;
}

}  // namespace mec::cli
