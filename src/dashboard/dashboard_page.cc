#include "dashboard/dashboard_page.h"

namespace mec {

namespace {

// Replaces every "</tag" (any case) in `text` by "<\/tag", which means the same inside a script
// string or a CSS comment and cannot end the element.
std::string Inline(std::string_view text, std::string_view tag) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '<' && i + 2 + tag.size() <= text.size() && text[i + 1] == '/') {
      bool match = true;
      for (size_t k = 0; match && k < tag.size(); ++k) match = (text[i + 2 + k] | 0x20) == tag[k];
      if (match) {
        out += "<\\/";
        ++i;  // skip the '/'
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

void ReplaceFirst(std::string& s, std::string_view marker, const std::string& with) {
  const size_t at = s.find(marker);
  if (at != std::string::npos) s.replace(at, marker.size(), with);
}

}  // namespace

std::string BuildDashboardPage(const PageParts& p) {
  std::string page(p.html);
  std::string style = "<style>\n" + Inline(p.chart_css, "style") + "\n" + Inline(p.css, "style") + "\n</style>";
  std::string script;
  if (!p.chart_js.empty()) script += "<script>\n" + Inline(p.chart_js, "script") + "\n</script>\n";
  script += "<script>\n" + Inline(p.js, "script") + "\n</script>";
  ReplaceFirst(page, "<!--mec:style-->", style);
  ReplaceFirst(page, "<!--mec:script-->", script);
  return page;
}

}  // namespace mec
