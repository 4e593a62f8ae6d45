#pragma once
// The dashboard's web files, compiled into the binary: src/dashboard/assets/* and uPlot's dist
// files from npm (dashboard/node_modules/uplot/dist). cmake/embed_dashboard_assets.cmake writes
// the definitions as byte arrays into the build directory; nothing generated is committed.

#include <string_view>

namespace mec {

// The embedded file called `name` ("index.html", "dashboard.js", "dashboard.css",
// "uPlot.iife.min.js", "uPlot.min.css"); empty when the build did not find it (uPlot not
// installed: run scripts/setup.sh).
std::string_view EmbeddedAsset(std::string_view name);

}  // namespace mec
