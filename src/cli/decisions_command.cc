// `mecrouter decisions [--db FILE] tail [-n N] | summary | export [--format jsonl|csv]`: reads the
// decision log the gateway writes (telemetry.decision_log.path; src/telemetry/decision_log.h)
// through a read-only connection, so it can run beside a live gateway.

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "cli/commands.h"
#include "cli/flags.h"
#include "core/json_writer.h"
#include "telemetry/decision_query.h"
#include "telemetry/judged_sample_log.h"
#include "telemetry/sqlite_db.h"

namespace mec::cli {
namespace {

constexpr const char* kDecisionsUsage =
    "usage: mecrouter decisions [--db FILE] tail [-n N] | summary | export [--format jsonl|csv] | export --labels\n"
    "  --db FILE   the decision log (telemetry.decision_log.path in the config); default decisions.db\n"
    "  tail        the newest N decisions (default 20), oldest first, one line each\n"
    "  summary     requests by tier, policy and status; predicted vs actual latency per backend\n"
    "  export      every row as JSON lines (default) or CSV with a header, to stdout\n"
    "  export --labels  the judged samples learning stored (docs/learning.md), as JSON lines\n";

int DecisionsFail(const std::string& msg) {
  std::fprintf(stderr, "mecrouter decisions: %s\n", msg.c_str());
  return 1;
}

}  // namespace

int RunDecisions(int argc, char** argv) {
  Flags flags(argc, argv, {"db", "format", "n"});
  const auto& pos = flags.positional();
  if (!flags.ok() || pos.empty() || flags.Has("help")) {
    if (!flags.ok()) std::fprintf(stderr, "mecrouter decisions: %s\n", flags.error().c_str());
    std::fputs(kDecisionsUsage, stderr);
    return flags.Has("help") ? 0 : 2;
  }
  const std::string& sub = pos[0];
  int n = 20;
  std::string n_text = flags.Get("n", "");
  if (sub == "tail" && pos.size() == 3 && pos[1] == "-n") n_text = pos[2];
  else if (pos.size() != 1) {
    std::fputs(kDecisionsUsage, stderr);
    return 2;
  }
  if (!n_text.empty()) {
    char* end = nullptr;
    const long v = std::strtol(n_text.c_str(), &end, 10);
    if (*end != '\0' || v < 1 || v > 10000000) return DecisionsFail("-n expects a number from 1 to 10000000, got '" + n_text + "'");
    n = static_cast<int>(v);
  }
  const std::string path = flags.Get("db", "decisions.db");
  auto db = SqliteDb::Open(path, true);
  if (!db.ok()) return DecisionsFail(db.status().message());
  if (sub == "tail") {
    auto out = TailDecisions(**db, n);
    if (!out.ok()) return DecisionsFail(path + ": " + out.status().message());
    std::fputs(out->c_str(), stdout);
    return 0;
  }
  if (sub == "summary") {
    auto s = SummarizeDecisions(**db);
    if (!s.ok()) return DecisionsFail(path + ": " + s.status().message());
    std::fputs(FormatDecisionSummary(*s).c_str(), stdout);
    return 0;
  }
  if (sub == "export" && flags.Has("labels")) {
    // The judged samples (docs/learning.md): one JSON object per line, oldest first.
    auto rows = ReadJudgedSamples(path);
    if (!rows.ok()) return DecisionsFail(path + ": " + rows.status().message());
    for (const StoredSample& r : *rows) {
      std::string line;
      JsonWriter w(line);
      w.BeginObject()
          .Field("id", r.id)
          .Field("ts", r.ts)
          .Field("tier_class", QualityClassName(r.tier_class))
          .Field("tier", r.tier)
          .Field("backend", r.backend)
          .Field("model", r.model)
          .Field("source", r.source)
          .Field("as_good", r.as_good)
          .Field("gain", r.gain)
          .Field("predicted", r.predicted)
          .Field("model_version", r.model_version)
          .Field("prompt", r.prompt)
          .Field("features", r.features)
          .EndObject();
      std::fwrite(line.data(), 1, line.size(), stdout);
      std::fputc('\n', stdout);
    }
    return 0;
  }
  if (sub == "export") {
    const std::string format = flags.Get("format", "jsonl");
    if (format != "jsonl" && format != "csv") return DecisionsFail("--format expects jsonl or csv, got '" + format + "'");
    std::ios::sync_with_stdio(false);
    Status s = ExportDecisions(**db, format == "csv" ? ExportFormat::kCsv : ExportFormat::kJsonl, std::cout);
    std::cout.flush();
    if (!s.ok()) return DecisionsFail(path + ": " + s.message());
    return 0;
  }
  std::fprintf(stderr, "mecrouter decisions: unknown subcommand '%s'\n", sub.c_str());
  std::fputs(kDecisionsUsage, stderr);
  return 2;
}

}  // namespace mec::cli
