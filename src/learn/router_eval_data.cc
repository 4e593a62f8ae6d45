#include "learn/router_eval_data.h"

#include <simdjson.h>

#include <charconv>
#include <fstream>
#include <unordered_set>

namespace mec {
namespace {

std::vector<std::string_view> SplitCsvLine(std::string_view line) {
  // The data has no quoted fields (README §2); a quote is rejected by the caller.
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t comma = line.find(',', start);
    if (comma == std::string_view::npos) {
      out.push_back(line.substr(start));
      return out;
    }
    out.push_back(line.substr(start, comma - start));
    start = comma + 1;
  }
}

bool ParseInt(std::string_view s, int* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool ParseBit(std::string_view s, bool* out) {
  if (s == "0") *out = false;
  else if (s == "1") *out = true;
  else return false;
  return true;
}

}  // namespace

Result<std::vector<LabelledItem>> ReadCorrectnessCsv(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("cannot open labels " + path);
  std::string line;
  if (!std::getline(in, line)) return Status::InvalidArgument(path + ": empty file");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  const std::vector<std::string_view> header = SplitCsvLine(line);
  auto column = [&](std::string_view name) -> int {
    for (size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return static_cast<int>(i);
    return -1;
  };
  const int c_id = column("item_id"), c_bench = column("benchmark"), c_subject = column("subject"),
            c_chars = column("prompt_chars"), c_cont = column("contaminated"), c_weak = column("mixtral_8x7b_correct"),
            c_strong = column("gpt4_1106_correct");
  for (int c : {c_id, c_bench, c_subject, c_chars, c_cont, c_weak, c_strong}) {
    if (c < 0) return Status::InvalidArgument(path + ": missing a required column in header '" + line + "'");
  }
  std::vector<LabelledItem> items;
  int line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    auto bad = [&](std::string what) { return Status::InvalidArgument(path + ":" + std::to_string(line_no) + ": " + what); };
    if (line.find('"') != std::string::npos) return bad("quoted fields are not supported");
    const std::vector<std::string_view> f = SplitCsvLine(line);
    if (f.size() != header.size()) return bad("expected " + std::to_string(header.size()) + " fields");
    LabelledItem it;
    it.item_id = f[c_id];
    it.benchmark = f[c_bench];
    it.subject = f[c_subject];
    if (!ParseInt(f[c_chars], &it.prompt_chars)) return bad("bad prompt_chars");
    if (!ParseBit(f[c_cont], &it.contaminated)) return bad("bad contaminated");
    if (!ParseBit(f[c_weak], &it.weak_correct)) return bad("bad mixtral_8x7b_correct");
    if (!ParseBit(f[c_strong], &it.strong_correct)) return bad("bad gpt4_1106_correct");
    items.push_back(std::move(it));
  }
  return items;
}

Result<std::unordered_map<std::string, std::string>> ReadPromptsJsonl(const std::string& path) {
  simdjson::padded_string text;
  if (simdjson::padded_string::load(path).get(text)) return Status::NotFound("cannot read prompts " + path);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document_stream docs;
  if (parser.iterate_many(text, text.size()).get(docs)) return Status::InvalidArgument(path + ": not JSON lines");
  std::unordered_map<std::string, std::string> prompts;
  size_t n = 0;
  for (auto doc_result : docs) {
    ++n;
    simdjson::ondemand::document_reference doc;
    std::string_view id, prompt;
    if (std::move(doc_result).get(doc) || doc["item_id"].get_string().get(id) || doc["prompt"].get_string().get(prompt)) {
      return Status::InvalidArgument(path + ": record " + std::to_string(n) + " lacks string item_id/prompt");
    }
    prompts.emplace(std::string(id), std::string(prompt));
  }
  return prompts;
}

Result<std::vector<std::string>> ReadIdList(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("cannot open id list " + path);
  std::vector<std::string> ids;
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    ids.push_back(line);
  }
  return ids;
}

Status WriteIdList(const std::string& path, const std::vector<std::string>& ids) {
  std::ofstream out(path, std::ios::trunc);
  if (!out) return Status::Unavailable("cannot write " + path);
  for (const auto& id : ids) out << id << '\n';
  out.close();
  if (!out) return Status::Unavailable("write failed: " + path);
  return Status::Ok();
}

Result<std::vector<LabelledPrompt>> JoinLabelledPrompts(const std::vector<LabelledItem>& labels,
                                                        const std::unordered_map<std::string, std::string>& prompts,
                                                        const std::vector<std::string>& ids, JoinStats* stats) {
  std::unordered_map<std::string_view, const LabelledItem*> by_id;
  by_id.reserve(labels.size());
  for (const auto& it : labels) by_id.emplace(it.item_id, &it);
  JoinStats s;
  s.requested = ids.size();
  std::unordered_set<std::string_view> seen;
  std::vector<LabelledPrompt> out;
  out.reserve(ids.size());
  for (const auto& id : ids) {
    auto l = by_id.find(id);
    if (l == by_id.end()) return Status::NotFound("item id not in labels: " + id);
    auto p = prompts.find(id);
    if (p == prompts.end()) return Status::NotFound("item id has no prompt: " + id);
    if (!seen.insert(l->first).second) return Status::InvalidArgument("item id listed twice: " + id);
    if (l->second->contaminated) {
      ++s.dropped_contaminated;
      continue;
    }
    out.push_back(LabelledPrompt{*l->second, p->second});
  }
  if (stats) *stats = s;
  return out;
}

Result<std::vector<LabelledPrompt>> LoadLabelledPrompts(const std::string& labels_csv, const std::string& prompts_jsonl,
                                                        const std::string& ids_file, JoinStats* stats) {
  auto labels = ReadCorrectnessCsv(labels_csv);
  if (!labels.ok()) return labels.status();
  auto prompts = ReadPromptsJsonl(prompts_jsonl);
  if (!prompts.ok()) return prompts.status();
  auto ids = ReadIdList(ids_file);
  if (!ids.ok()) return ids.status();
  return JoinLabelledPrompts(*labels, *prompts, *ids, stats);
}

}  // namespace mec
