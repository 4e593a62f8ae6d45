#pragma once
// Test helpers for the telemetry tests (header-only; not part of the library): request records
// with known values, temporary file names, and a metric value reader for Prometheus text.

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "telemetry/request_record.h"

namespace mec::testing_util {

// A unique path under the test temp dir; removes leftovers (and -wal / -shm files) of a previous run.
inline std::string TempPath(const std::string& name) {
  const std::string p = ::testing::TempDir() + "/mec_tele_" + std::to_string(::getpid()) + "_" + name;
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((p + suffix).c_str());
  return p;
}

// A decided, answered request on backend `backend` (chain {0, 1}) with predictions for both.
inline RequestRecord MakeRecord(const std::string& id, double unix_s, int backend = 0) {
  RequestRecord r;
  r.id = id;
  r.request_id = "req-" + id;
  r.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  r.unix_s = unix_s;
  r.endpoint = "chat";
  r.model = "auto";
  r.task_class = "chat";
  r.use_case = "gaming.npc-dialogue";
  r.input_tokens_est = 42;
  r.output_tokens_est = 100;
  r.deadline_ms = 800;
  r.min_quality = 0.8;
  r.privacy = "any";
  r.network = "link=5g; rtt-edge=12";
  r.decided = true;
  r.policy = "adaptive";
  r.reason = "edge meets quality";
  r.chain = {0, 1};
  for (int b = 0; b < 2; ++b) {
    Candidate c;
    c.backend = b;
    c.tier = b == 0 ? Tier::kEdge : Tier::kCloud;
    c.ttft_s = 0.2 + 0.3 * b;  // edge 0.2, cloud 0.5
    c.latency_s = 1.0 + b;     // edge 1.0, cloud 2.0
    c.latency_sigma = 0;         // p95 = the median
    c.p_meet = 0.95 - 0.5 * b;
    c.quality = 0.85 + 0.15 * b;
    c.cost_usd = 0.001 * (b + 1);
    c.score = 1 - b;
    r.candidates.push_back(c);
  }
  r.decision_s = 20e-6;
  r.attempts = 1;
  r.backend = backend;
  r.answered = true;
  r.status = RequestStatus::kOk;
  r.http_status = 200;
  r.ttft_s = 0.25;
  r.latency_s = 1.5;
  r.input_tokens = 40;
  r.output_tokens = 90;
  r.cost_usd = 0.0005;
  return r;
}

// The value of the sample whose line starts with `series` (name and labels as printed, e.g.
// `mecrouter_retries_total` or `mecrouter_requests_total{backend="e",...}`), if any.
inline std::optional<double> Sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return std::nullopt;
}

// Runs `promtool check metrics` on `text`; returns its exit status and output. Fails the test
// (not skips: scripts/setup.sh installs it) when promtool is missing.
inline int PromtoolCheck(const std::string& text, std::string* output) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) {
    ADD_FAILURE() << "promtool not found on PATH: install the Debian package 'prometheus' (scripts/setup.sh does)";
    return -1;
  }
  const std::string in = TempPath("metrics.prom"), out = TempPath("promtool.out");
  std::ofstream(in) << text;
  const int rc = std::system(("promtool check metrics < " + in + " > " + out + " 2>&1").c_str());
  std::ifstream f(out);
  output->assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  std::remove(in.c_str());
  std::remove(out.c_str());
  return rc;
}

}  // namespace mec::testing_util
