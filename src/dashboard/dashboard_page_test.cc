#include "dashboard/dashboard_page.h"

#include <gtest/gtest.h>

#include "dashboard/embedded_assets.h"

namespace mec {
namespace {

TEST(DashboardPage, InlinesStylesAndScriptsAtTheMarkers) {
  const std::string page = BuildDashboardPage({"<head><!--mec:style--></head><body><!--mec:script--></body>", "b{}", "go();",
                                               "u{}", "var uPlot=1;"});
  EXPECT_EQ(page,
            "<head><style>\nu{}\nb{}\n</style></head><body><script>\nvar uPlot=1;\n</script>\n<script>\ngo();\n</script></body>");
}

TEST(DashboardPage, InlinedTextCannotCloseItsElement) {
  const std::string page = BuildDashboardPage({"<!--mec:style--><!--mec:script-->", "a::after{content:'</STYLE>'}",
                                               "s='</script><img src=x>';", "", ""});
  EXPECT_EQ(page.find("</STYLE>"), std::string::npos);
  EXPECT_NE(page.find("<\\/STYLE>"), std::string::npos);
  EXPECT_NE(page.find("s='<\\/script><img src=x>';"), std::string::npos);
  // Only the page's own closing tags remain.
  size_t closes = 0;
  for (size_t at = page.find("</script>"); at != std::string::npos; at = page.find("</script>", at + 1)) ++closes;
  EXPECT_EQ(closes, 1u);  // no chart script given: only the dashboard's own element
}

TEST(DashboardPage, EmbeddedAssetsAreThere) {
  EXPECT_NE(EmbeddedAsset("index.html").find("<!--mec:script-->"), std::string_view::npos);
  EXPECT_NE(EmbeddedAsset("dashboard.js").find("/api/dashboard"), std::string_view::npos);
  EXPECT_FALSE(EmbeddedAsset("dashboard.css").empty());
  EXPECT_TRUE(EmbeddedAsset("no-such-file").empty());
  // uPlot comes from npm (scripts/setup.sh); the build warns when it is missing.
  if (EmbeddedAsset("uPlot.iife.min.js").empty()) GTEST_SKIP() << "uPlot was not installed when this was built";
  EXPECT_NE(EmbeddedAsset("uPlot.iife.min.js").find("uPlot"), std::string_view::npos);
  EXPECT_FALSE(EmbeddedAsset("uPlot.min.css").empty());
}

}  // namespace
}  // namespace mec
