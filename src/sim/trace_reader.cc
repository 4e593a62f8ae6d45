#include "sim/trace_reader.h"

#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string_view>

#include <fmt/format.h>

namespace mec::sim {
namespace {

bool ParseInt(std::string_view s, int64_t& v) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '"')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '"' || s.back() == '\r')) s.remove_suffix(1);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size();
}

// Days from 1970-01-01 of a civil date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

// "YYYY-MM-DD HH:MM:SS.fffffff" -> seconds since the epoch (UTC; only differences matter).
bool ParseTimestamp(std::string_view s, double& out) {
  int64_t y, mo, d, h, mi;
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':') return false;
  if (!ParseInt(s.substr(0, 4), y) || !ParseInt(s.substr(5, 2), mo) || !ParseInt(s.substr(8, 2), d) || !ParseInt(s.substr(11, 2), h) ||
      !ParseInt(s.substr(14, 2), mi))
    return false;
  double sec = 0;
  const std::string tail(s.substr(17));
  char* end = nullptr;
  sec = std::strtod(tail.c_str(), &end);
  if (end == tail.c_str()) return false;
  out = static_cast<double>(DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d))) * 86400.0 + h * 3600.0 + mi * 60.0 + sec;
  return true;
}

// The number after "key": in a flat JSON object line.
bool JsonNumber(std::string_view line, std::string_view key, double& v) {
  const std::string k = "\"" + std::string(key) + "\"";
  size_t p = line.find(k);
  if (p == std::string_view::npos) return false;
  p = line.find(':', p + k.size());
  if (p == std::string_view::npos) return false;
  const std::string rest(line.substr(p + 1, 32));
  char* end = nullptr;
  v = std::strtod(rest.c_str(), &end);
  return end != rest.c_str();
}

// The array after "hash_ids": (absent: none). Non-negative integers only.
Status HashIds(std::string_view line, std::vector<uint64_t>& out) {
  size_t p = line.find("\"hash_ids\"");
  if (p == std::string_view::npos) return Status::Ok();
  p = line.find('[', p);
  const size_t end = p == std::string_view::npos ? p : line.find(']', p);
  if (end == std::string_view::npos) return Status::InvalidArgument("hash_ids: expected an array of integers");
  for (size_t i = p + 1; i < end;) {
    while (i < end && (line[i] == ' ' || line[i] == ',')) ++i;
    if (i >= end) break;
    uint64_t v = 0;
    auto [next, ec] = std::from_chars(line.data() + i, line.data() + end, v);
    if (ec != std::errc()) return Status::InvalidArgument("hash_ids: expected an array of integers");
    out.push_back(v);
    i = static_cast<size_t>(next - line.data());
  }
  return Status::Ok();
}

Status CheckOrder(const std::vector<TraceRow>& rows, const std::string& source, size_t line) {
  if (rows.size() >= 2 && rows.back().arrival_s < rows[rows.size() - 2].arrival_s)
    return Status::InvalidArgument(fmt::format("{}:{}: arrival earlier than the previous row (traces must be in time order)", source, line));
  return Status::Ok();
}

}  // namespace

Result<std::vector<TraceRow>> ParseAzureTrace(const std::string& text, const std::string& source, double time_scale) {
  if (time_scale <= 0) return Status::InvalidArgument("time scale must be > 0");
  std::vector<TraceRow> rows;
  std::istringstream in(text);
  std::string line;
  size_t n = 0;
  double first = 0;
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (n == 1) {
      if (line.rfind("TIMESTAMP", 0) != 0) return Status::InvalidArgument(source + ":1: expected the header TIMESTAMP,ContextTokens,GeneratedTokens");
      continue;
    }
    const size_t c1 = line.find(','), c2 = line.find(',', c1 == std::string::npos ? 0 : c1 + 1);
    TraceRow r;
    double t = 0;
    if (c1 == std::string::npos || c2 == std::string::npos || !ParseTimestamp(std::string_view(line).substr(0, c1), t) ||
        !ParseInt(std::string_view(line).substr(c1 + 1, c2 - c1 - 1), r.input_tokens) || !ParseInt(std::string_view(line).substr(c2 + 1), r.output_tokens))
      return Status::InvalidArgument(fmt::format("{}:{}: expected TIMESTAMP,ContextTokens,GeneratedTokens", source, n));
    if (rows.empty()) first = t;
    r.arrival_s = (t - first) / time_scale;
    rows.push_back(r);
    if (auto st = CheckOrder(rows, source, n); !st.ok()) return st;
  }
  if (rows.empty()) return Status::InvalidArgument(source + ": no rows");
  return rows;
}

Result<std::vector<TraceRow>> ParseMooncakeTrace(const std::string& text, const std::string& source, double time_scale) {
  if (time_scale <= 0) return Status::InvalidArgument("time scale must be > 0");
  std::vector<TraceRow> rows;
  std::istringstream in(text);
  std::string line;
  size_t n = 0;
  double first = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line == "\r") continue;
    double ts = 0, il = 0, ol = 0;
    if (!JsonNumber(line, "timestamp", ts) || !JsonNumber(line, "input_length", il) || !JsonNumber(line, "output_length", ol) || il < 0 || ol < 0)
      return Status::InvalidArgument(fmt::format("{}:{}: expected {{\"timestamp\", \"input_length\", \"output_length\"}}", source, n));
    if (rows.empty()) first = ts;
    rows.push_back({(ts - first) / 1000.0 / time_scale, static_cast<int64_t>(il), static_cast<int64_t>(ol), {}});
    if (auto st = HashIds(line, rows.back().blocks); !st.ok()) return Status::InvalidArgument(fmt::format("{}:{}: {}", source, n, st.message()));
    if (auto st = CheckOrder(rows, source, n); !st.ok()) return st;
  }
  if (rows.empty()) return Status::InvalidArgument(source + ": no rows");
  return rows;
}

Result<std::vector<TraceRow>> LoadTrace(const std::string& path, double time_scale) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status::NotFound("cannot read trace " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  auto ends = [&](std::string_view suf) { return path.size() >= suf.size() && path.compare(path.size() - suf.size(), suf.size(), suf) == 0; };
  if (ends(".csv")) return ParseAzureTrace(ss.str(), path, time_scale);
  if (ends(".jsonl")) return ParseMooncakeTrace(ss.str(), path, time_scale);
  return Status::InvalidArgument(path + ": a trace is .csv (Azure) or .jsonl (Mooncake)");
}

}  // namespace mec::sim
