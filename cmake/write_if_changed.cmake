# mec_write_if_changed(PATH CONTENT): writes CONTENT to PATH unless it already holds exactly that,
# so an unchanged generated source does not trigger a rebuild. For the embed_*.cmake scripts.
function(mec_write_if_changed path content)
  if(EXISTS "${path}")
    file(READ "${path}" old)
    if(old STREQUAL content)
      return()
    endif()
  endif()
  file(WRITE "${path}" "${content}")
endfunction()
