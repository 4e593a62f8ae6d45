// mecrouter: one binary, several subcommands (DESIGN.md §1).

#include <cstdio>
#include <cstring>
#include <string>

#include "cli/commands.h"

namespace {

void Usage() {
  std::fprintf(stderr,
               "mecrouter — an inference router for the device–edge–cloud continuum\n\n"
               "usage:\n"
               "  mecrouter serve [--config FILE] [--listen HOST:PORT] [--threads N] [--allow-anonymous] [--edge-gpus N]\n"
               "      the gateway; without --config, the embedded demo (three emulated tiers on loopback; its edge\n"
               "      site has N GPUs of 8 slots each, default 1)\n"
               "  mecrouter emulate --profile device|edge|cloud|zero|FILE [--listen HOST:PORT] [--threads N] [--seed S]\n"
               "      one emulated OpenAI-compatible model server\n"
               "  mecrouter config check FILE\n"
               "      validate a configuration and print the resolved backends\n"
               "  mecrouter complexity train|eval ...\n"
               "      the request-complexity model\n"
               "  mecrouter simulate --scenario NAME|FILE [--policy P,...|all] [--requests N] [--seed S] [--json FILE] [--data DIR]\n"
               "      the discrete-event simulator: every policy on the same simulated fleet\n"
               "  mecrouter decisions [--db FILE] tail [-n N] | summary | export [--format jsonl|csv] | export --labels\n"
               "      query the decision log (telemetry.decision_log.path)\n"
               "  mecrouter demo [--duration S] [--rate R] [--seed N] [--listen HOST:PORT] [--no-outage] [--keep-serving]\n"
               "      the embedded stack plus live mixed traffic through the gateway, an edge outage mid-way, a summary\n"
               "  mecrouter keys [--db FILE] create --name NAME [--budget-usd X --budget-period 1h|1d|1w|1mo] [--rpm N] ... | list | show | revoke | rotate | audit\n"
               "      API keys with budgets and rate limits (auth.keys_db; docs/security.md)\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    Usage();
    return argc < 2 ? 2 : 0;
  }
  const std::string cmd = argv[1];
  if (cmd == "serve") return mec::cli::RunServe(argc - 2, argv + 2);
  if (cmd == "emulate") return mec::cli::RunEmulate(argc - 2, argv + 2);
  if (cmd == "config") return mec::cli::RunConfig(argc - 2, argv + 2);
  if (cmd == "complexity") return mec::cli::RunComplexity(argc - 2, argv + 2);
  if (cmd == "tokens") return mec::cli::RunTokens(argc - 2, argv + 2);  // estimated token counts
  if (cmd == "simulate") return mec::cli::RunSimulate(argc - 2, argv + 2);  // discrete-event simulator
  if (cmd == "decisions") return mec::cli::RunDecisions(argc - 2, argv + 2);  // the decision log
  if (cmd == "demo") return mec::cli::RunDemo(argc - 2, argv + 2);  // live traffic through the embedded stack
  if (cmd == "keys") return mec::cli::RunKeys(argc - 2, argv + 2);  // API keys, budgets, rate limits
  std::fprintf(stderr, "mecrouter: unknown command '%s'\n\n", cmd.c_str());
  Usage();
  return 2;
}
