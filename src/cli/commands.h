#pragma once
// Subcommands of the `mecrouter` binary. Each takes the arguments after its own name and returns
// the process exit code.

namespace mec::cli {

int RunServe(int argc, char** argv);
int RunEmulate(int argc, char** argv);
int RunConfig(int argc, char** argv);
int RunComplexity(int argc, char** argv);  // complexity_command.cc
int RunComplexityLearn(int argc, char** argv);  // complexity_learn_command.cc
int RunComplexityTrainJudged(int argc, char** argv);  // complexity_learn_command.cc
int RunComplexityPredict(int argc, char** argv);  // complexity_learn_command.cc
int RunTokens(int argc, char** argv);  // tokens_command.cc
int RunSimulate(int argc, char** argv);  // simulate_command.cc
int RunDecisions(int argc, char** argv);  // decisions_command.cc
int RunDemo(int argc, char** argv);  // demo_command.cc
int RunKeys(int argc, char** argv);  // keys_command.cc: the API keys database (docs/security.md)

}  // namespace mec::cli
