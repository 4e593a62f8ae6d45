#pragma once
// The dashboard's one HTML document: the page template with its styles and scripts inlined, so
// the browser makes one request for the page (which a bearer token may protect) and then only
// polls the JSON. A pure function of its inputs.

#include <string>
#include <string_view>

namespace mec {

struct PageParts {
  std::string_view html;       // contains the markers <!--mec:style--> and <!--mec:script-->
  std::string_view css;        // the dashboard's own
  std::string_view js;
  std::string_view chart_css;  // uPlot's; may be empty
  std::string_view chart_js;   // may be empty: the page then says charts are unavailable
};

// The template with <style> (chart css, then css) at <!--mec:style--> and <script> elements
// (chart js, then js) at <!--mec:script-->. Inlined text never closes its element early:
// "</style" and "</script" inside it are escaped.
std::string BuildDashboardPage(const PageParts& parts);

}  // namespace mec
