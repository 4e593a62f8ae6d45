#include "backend/prometheus_text.h"

#include <gtest/gtest.h>

#include <cmath>

namespace mec {
namespace {

struct Owned {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;
  double value;
  std::optional<int64_t> ts;
};

Result<std::vector<Owned>> ReadAll(std::string_view text) {
  std::vector<Owned> out;
  Status s = ForEachPromSample(text, [&](const PromSample& p) {
    Owned o{std::string(p.name), {}, p.value, p.timestamp_ms};
    for (const auto& l : p.labels) o.labels.emplace_back(std::string(l.name), l.value);
    out.push_back(std::move(o));
  });
  if (!s.ok()) return s;
  return out;
}

TEST(PrometheusText, CommentsLabelsEscapesSpecialValuesTimestamps) {
  // The format's own example (prometheus/docs content/docs/instrumenting/exposition_formats.md), CRLF in one line.
  const std::string text =
      "# HELP http_requests_total The total number of HTTP requests.\n"
      "# TYPE http_requests_total counter\n"
      "http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n"
      "http_requests_total{method=\"post\",code=\"400\"}    3 1395066363000\r\n"
      "\n"
      "# Escaping in label values:\n"
      "msdos_file_access_time_seconds{path=\"C:\\\\DIR\\\\FILE.TXT\",error=\"Cannot find file:\\n\\\"FILE.TXT\\\"\"} 1.458255915e9\n"
      "# Minimalistic line:\n"
      "metric_without_timestamp_and_labels 12.47\n"
      "something_weird{problem=\"division by zero\"} +Inf -3982045\n"
      "trailing_comma{a=\"1\",} -Inf\n"
      "not_a_number NaN\n"
      "  \t spaced_out { a = \"x\" } 2\n";
  auto r = ReadAll(text);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 8u);
  EXPECT_EQ((*r)[0].name, "http_requests_total");
  EXPECT_EQ((*r)[0].labels[1], (std::pair<std::string, std::string>{"code", "200"}));
  EXPECT_EQ((*r)[0].value, 1027);
  EXPECT_EQ((*r)[0].ts, 1395066363000);
  EXPECT_EQ((*r)[1].value, 3);
  EXPECT_EQ((*r)[2].labels[0].second, "C:\\DIR\\FILE.TXT");
  EXPECT_EQ((*r)[2].labels[1].second, "Cannot find file:\n\"FILE.TXT\"");
  EXPECT_DOUBLE_EQ((*r)[2].value, 1.458255915e9);
  EXPECT_FALSE((*r)[3].ts.has_value());
  EXPECT_TRUE(std::isinf((*r)[4].value) && (*r)[4].value > 0);
  EXPECT_EQ((*r)[4].ts, -3982045);
  EXPECT_EQ((*r)[5].labels.size(), 1u);
  EXPECT_TRUE(std::isinf((*r)[5].value) && (*r)[5].value < 0);
  EXPECT_TRUE(std::isnan((*r)[6].value));
  EXPECT_EQ((*r)[7].name, "spaced_out");
  EXPECT_EQ((*r)[7].labels[0].second, "x");
}

TEST(PrometheusText, EmptyTextHasNoSamples) {
  auto r = ReadAll("");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
  r = ReadAll("# only comments\n# EOF\n");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

TEST(PrometheusText, MalformedLinesAreErrorsNamingTheLine) {
  const std::pair<const char*, const char*> cases[] = {
      {"ok 1\n{a=\"b\"} 1\n", "line 2: expected a metric name"},
      {"m{a=\"b\" 1\n", "line 1: expected ',' or '}'"},
      {"m{a=\"b} 1\n", "line 1: bad quoted value"},
      {"m{a=b} 1\n", "line 1: expected a quoted value for label a"},
      {"m{a\"b\"} 1\n", "line 1: expected '=' after label a"},
      {"m{a=\"\\t\"} 1\n", "line 1: bad quoted value"},
      {"m\n", "line 1: expected a value"},
      {"m one\n", "line 1: bad value 'one'"},
      {"m 1 2 3\n", "line 1: unexpected text after the timestamp"},
      {"m 1 soon\n", "line 1: bad timestamp 'soon'"},
      {"m --1\n", "line 1: bad value '--1'"},
      {"m{", "line 1: unterminated label set"},
      {"<html><body>Not Found</body></html>", "line 1: expected a metric name"},
  };
  for (const auto& [text, want] : cases) {
    auto r = ReadAll(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_NE(r.status().message().find(want), std::string::npos) << text << " -> " << r.status().message();
  }
}

TEST(PrometheusText, SumsFiniteValuesOverLabelSets) {
  const std::string_view names[] = {"a", "b", "c"};
  std::vector<PromTotal> t;
  ASSERT_TRUE(SumPromSamples("a{x=\"1\"} 2\na{x=\"2\"} 3\nb NaN\nab 100\n", names, t).ok());
  EXPECT_EQ(t[0].Sum(), 5);
  EXPECT_EQ(t[0].Mean(), 2.5);
  EXPECT_FALSE(t[1].Sum().has_value());  // only NaN
  EXPECT_FALSE(t[2].Sum().has_value());  // absent
}

}  // namespace
}  // namespace mec
