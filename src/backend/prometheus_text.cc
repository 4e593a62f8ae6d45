#include "backend/prometheus_text.h"

#include <charconv>
#include <cmath>

namespace mec {
namespace {

bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':'; }
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }
bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// A cursor over one line; every method leaves `pos` after what it read.
struct LineReader {
  std::string_view s;
  size_t pos = 0;

  bool done() const { return pos >= s.size(); }
  void SkipBlanks() {
    while (pos < s.size() && IsBlank(s[pos])) ++pos;
  }
  // A metric or label name ([a-zA-Z_:][a-zA-Z0-9_:]*); label names take no ':' but we are lenient.
  std::string_view Name() {
    const size_t start = pos;
    if (pos < s.size() && IsNameStart(s[pos])) ++pos;
    else return {};
    while (pos < s.size() && IsNameChar(s[pos])) ++pos;
    return s.substr(start, pos - start);
  }
  // The next run of non-blank characters.
  std::string_view Token() {
    const size_t start = pos;
    while (pos < s.size() && !IsBlank(s[pos])) ++pos;
    return s.substr(start, pos - start);
  }
  // A quoted label value; REQUIRES: s[pos] == '"'.
  std::optional<std::string> Quoted() {
    std::string out;
    for (++pos; pos < s.size(); ++pos) {
      const char c = s[pos];
      if (c == '"') {
        ++pos;
        return out;
      }
      if (c != '\\') {
        out += c;
        continue;
      }
      if (++pos >= s.size()) return std::nullopt;
      const char e = s[pos];
      if (e == 'n') out += '\n';
      else if (e == '\\' || e == '"') out += e;
      else return std::nullopt;  // the format knows no other escape
    }
    return std::nullopt;  // unterminated
  }
};

// A sample value: a float, NaN, +Inf, -Inf (any case, as Go's ParseFloat reads them).
std::optional<double> ParseValue(std::string_view t) {
  if (t.empty()) return std::nullopt;
  bool neg = false;
  if (t[0] == '+' || t[0] == '-') {
    neg = t[0] == '-';
    t.remove_prefix(1);
    if (t.empty() || t[0] == '+' || t[0] == '-') return std::nullopt;
  }
  double v = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || end != t.data() + t.size()) return std::nullopt;
  return neg ? -v : v;
}

std::optional<int64_t> ParseTimestamp(std::string_view t) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc() || end != t.data() + t.size()) return std::nullopt;
  return v;
}

Status LineError(int line, const std::string& what) {
  return Status::InvalidArgument("line " + std::to_string(line) + ": " + what);
}

// Reads one sample line into `out`; the error says what is wrong (without the line number).
std::optional<std::string> ReadSample(std::string_view line, PromSample& out) {
  LineReader r{line};
  out.labels.clear();
  out.timestamp_ms.reset();
  out.name = r.Name();
  if (out.name.empty()) return "expected a metric name";
  r.SkipBlanks();
  if (!r.done() && r.s[r.pos] == '{') {
    ++r.pos;
    for (;;) {
      r.SkipBlanks();
      if (r.done()) return "unterminated label set";
      if (r.s[r.pos] == '}') {
        ++r.pos;
        break;
      }
      PromLabel label;
      label.name = r.Name();
      if (label.name.empty()) return "expected a label name";
      r.SkipBlanks();
      if (r.done() || r.s[r.pos] != '=') return "expected '=' after label " + std::string(label.name);
      ++r.pos;
      r.SkipBlanks();
      if (r.done() || r.s[r.pos] != '"') return "expected a quoted value for label " + std::string(label.name);
      auto v = r.Quoted();
      if (!v) return "bad quoted value for label " + std::string(label.name);
      label.value = std::move(*v);
      out.labels.push_back(std::move(label));
      r.SkipBlanks();
      if (!r.done() && r.s[r.pos] == ',') {
        ++r.pos;
        continue;
      }
      if (!r.done() && r.s[r.pos] == '}') continue;
      return "expected ',' or '}' in the label set";
    }
  }
  r.SkipBlanks();
  const std::string_view value = r.Token();
  auto v = ParseValue(value);
  if (!v) return value.empty() ? std::string("expected a value") : "bad value '" + std::string(value) + "'";
  out.value = *v;
  r.SkipBlanks();
  if (!r.done()) {
    const std::string_view ts = r.Token();
    auto t = ParseTimestamp(ts);
    if (!t) return "bad timestamp '" + std::string(ts) + "'";
    out.timestamp_ms = *t;
    r.SkipBlanks();
    if (!r.done()) return "unexpected text after the timestamp";
  }
  return std::nullopt;
}

}  // namespace

Status ForEachPromSample(std::string_view text, const std::function<void(const PromSample&)>& fn) {
  PromSample sample;
  int line_no = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t first = 0;
    while (first < line.size() && IsBlank(line[first])) ++first;
    line.remove_prefix(first);
    if (line.empty() || line[0] == '#') continue;  // HELP, TYPE and plain comments carry no sample
    if (auto err = ReadSample(line, sample)) return LineError(line_no, *err);
    fn(sample);
  }
  return Status::Ok();
}

Status SumPromSamples(std::string_view text, std::span<const std::string_view> names, std::vector<PromTotal>& out) {
  out.assign(names.size(), PromTotal{});
  return ForEachPromSample(text, [&](const PromSample& s) {
    if (!std::isfinite(s.value)) return;
    for (size_t i = 0; i < names.size(); ++i) {
      if (s.name != names[i]) continue;
      out[i].sum += s.value;
      ++out[i].count;
    }
  });
}

}  // namespace mec
