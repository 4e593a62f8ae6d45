#include "emulate/vllm_dialect.h"

#include <charconv>
#include <cmath>
#include <iterator>

#include <fmt/format.h>

namespace mec {

std::string PrometheusPythonFloat(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);  // shortest round trip, as repr
  std::string s(buf, end);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  // Go switches to exponents sooner than Python: d > 0 with more than 6 digits before the point.
  const size_t dot = s.find('.');
  if (v > 0 && dot != std::string::npos && dot > 6 && s.find('e') == std::string::npos) {
    std::string mantissa = s.substr(0, 1) + "." + s.substr(1, dot - 1) + s.substr(dot + 1);
    while (!mantissa.empty() && (mantissa.back() == '0' || mantissa.back() == '.')) mantissa.pop_back();
    s = fmt::format("{}e+0{}", mantissa, dot - 1);
  }
  return s;
}

namespace {

void Family(std::string& out, std::string_view name, std::string_view help, std::string_view type,
            std::string_view labels, double value) {
  fmt::format_to(std::back_inserter(out), "# HELP {0} {1}\n# TYPE {0} {2}\n{0}{{{3}}} {4}\n", name, help, type, labels,
                 PrometheusPythonFloat(value));
}

// A label value with prometheus_client's escapes (\\, \n, \").
std::string Escaped(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '"') out += "\\\"";
    else out += c;
  }
  return out;
}

}  // namespace

std::string VllmMetricsText(const EngineSnapshot& s, std::string_view model_name) {
  const std::string labels = fmt::format("engine=\"0\",model_name=\"{}\"", Escaped(model_name));
  std::string out;
  Family(out, "vllm:num_requests_running", "Number of requests in model execution batches.", "gauge", labels, s.running);
  Family(out, "vllm:num_requests_waiting", "Number of requests waiting to be processed.", "gauge", labels, s.waiting);
  Family(out, "vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", "gauge", labels, s.kv_usage);
  Family(out, "vllm:prefix_cache_queries_total", "Prefix cache queries, in terms of number of queried tokens.", "counter",
         labels, static_cast<double>(s.prefix_queries));
  Family(out, "vllm:prefix_cache_hits_total", "Prefix cache hits, in terms of number of cached tokens.", "counter", labels,
         static_cast<double>(s.prefix_hits));
  Family(out, "vllm:prompt_tokens_total", "Number of prefill tokens processed.", "counter", labels,
         static_cast<double>(s.prompt_tokens_seen));
  Family(out, "vllm:generation_tokens_total", "Number of generation tokens processed.", "counter", labels,
         static_cast<double>(s.tokens_generated));
  return out;
}

}  // namespace mec
