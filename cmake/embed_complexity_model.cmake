# Writes a C++ source that holds a text file as a raw string literal:
#   cmake -DIN=<text file> -DOUT=<.cc> -P embed_complexity_model.cmake
# defines std::string_view mec::EmbeddedDefaultComplexityModelText() (context/learned_complexity_model.h).
# A missing input gives an empty text (the model then falls back to a constant prior).
set(delim "mecmodel")
if(EXISTS "${IN}")
  file(READ "${IN}" content)
  string(FIND "${content}" ")${delim}\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${IN} contains the raw-string delimiter )${delim}\"")
  endif()
else()
  set(content "")
endif()
set(body "// Generated from ${IN} by cmake/embed_complexity_model.cmake. Do not edit.\n#include <string_view>\n\nnamespace mec {\n\nstd::string_view EmbeddedDefaultComplexityModelText() {\n  static constexpr char kText[] = R\"${delim}(${content})${delim}\";\n  return std::string_view(kText, sizeof(kText) - 1);\n}\n\n}  // namespace mec\n")
# Rewrite only on change, so an unchanged model does not trigger a rebuild.
include("${CMAKE_CURRENT_LIST_DIR}/write_if_changed.cmake")
mec_write_if_changed("${OUT}" "${body}")
