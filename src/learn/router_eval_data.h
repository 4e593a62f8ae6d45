#pragma once
// Readers for the labelled router-evaluation data (../shared/data/router_eval, README §2):
// per-prompt correctness of a weak (Mixtral-8x7B) and a strong (GPT-4) model on MMLU and GSM8K,
// the prompt texts, and id lists that name a split (one item id per line).

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"

namespace mec {

// One row of routellm_mmlu_gsm8k_correctness.csv.
struct LabelledItem {
  std::string item_id;
  std::string benchmark;  // "mmlu" or "gsm8k"
  std::string subject;    // MMLU subject; "math_word_problem" for GSM8K
  int prompt_chars = 0;
  bool contaminated = false;
  bool weak_correct = false;
  bool strong_correct = false;

  // The label of the complexity model (DESIGN.md §2): not (strong correct and weak wrong).
  bool WeakAsGood() const { return !(strong_correct && !weak_correct); }
};

// A labelled item joined with its prompt text.
struct LabelledPrompt {
  LabelledItem item;
  std::string prompt;
};

// Reads the correctness CSV (header names the columns; order does not matter).
Result<std::vector<LabelledItem>> ReadCorrectnessCsv(const std::string& path);
// Reads routellm_prompts.jsonl: item_id -> prompt.
Result<std::unordered_map<std::string, std::string>> ReadPromptsJsonl(const std::string& path);
// Reads an id list (one id per line; blank lines and lines starting with '#' are skipped).
Result<std::vector<std::string>> ReadIdList(const std::string& path);
Status WriteIdList(const std::string& path, const std::vector<std::string>& ids);

struct JoinStats {
  size_t requested = 0;          // ids in the list
  size_t dropped_contaminated = 0;
};

// The listed items with their prompts, in list order, contaminated rows dropped. An id that is
// not in the labels or has no prompt is an error (a list from another data version).
Result<std::vector<LabelledPrompt>> JoinLabelledPrompts(const std::vector<LabelledItem>& labels,
                                                        const std::unordered_map<std::string, std::string>& prompts,
                                                        const std::vector<std::string>& ids, JoinStats* stats = nullptr);

// Loads the three files and joins them (the usual entry point of the CLI and tests).
Result<std::vector<LabelledPrompt>> LoadLabelledPrompts(const std::string& labels_csv, const std::string& prompts_jsonl,
                                                        const std::string& ids_file, JoinStats* stats = nullptr);

}  // namespace mec
