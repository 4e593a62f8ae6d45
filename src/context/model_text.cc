#include "context/model_text.h"

#include <algorithm>

namespace mec {

std::string FloatText(float v) {
  char buf[32];
  auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, p);
}

std::vector<std::string_view> SplitFields(std::string_view line) {
  std::vector<std::string_view> f;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ') ++j;
    if (j > i) f.push_back(line.substr(i, j - i));
    i = j;
  }
  return f;
}

bool NextLine(std::string_view* text, std::string_view* line) {
  if (text->empty()) return false;
  size_t nl = text->find('\n');
  if (nl == std::string_view::npos) nl = text->size();
  *line = text->substr(0, nl);
  if (!line->empty() && line->back() == '\r') line->remove_suffix(1);
  text->remove_prefix(std::min(nl + 1, text->size()));
  return true;
}

}  // namespace mec
