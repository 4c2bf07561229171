# Module boundaries (docs/DESIGN.md §3.1): a module's library exports only its public headers.
#
# vmd_module_headers(TARGET ROOT FOLDER PUBLIC_HEADER...) stages the headers of ROOT/FOLDER into
# ${CMAKE_CURRENT_BINARY_DIR}/include/TARGET/{public,internal}/FOLDER/ as symlinks, so that
# includes keep their spelling ("storage/store.hpp") and an edit to a header is seen by the next
# build. The public folder is the target's PUBLIC include directory, the internal one PRIVATE:
# the module's own sources see its whole folder and only the public headers of what they link,
# and nothing puts the source tree itself on an include path. A header not named public is
# internal. TARGET_internals (an INTERFACE target: TARGET plus its internal folder) is the one
# way in for the tests, fuzz targets and benchmarks that exercise a module's internals.
function(vmd_module_headers target root folder)
  set(public_headers ${ARGN})
  set(stage ${CMAKE_CURRENT_BINARY_DIR}/include/${target})
  # Staged afresh at every configure, so that a header that became internal (or was removed)
  # leaves no link behind in the public folder.
  file(REMOVE_RECURSE ${stage})
  file(MAKE_DIRECTORY ${stage}/public/${folder} ${stage}/internal/${folder})
  file(GLOB headers CONFIGURE_DEPENDS RELATIVE ${root}/${folder} ${root}/${folder}/*.hpp)
  foreach(header IN LISTS public_headers)
    if(NOT header IN_LIST headers)
      message(FATAL_ERROR "${target}: the public header ${folder}/${header} does not exist")
    endif()
  endforeach()
  foreach(header IN LISTS headers)
    if(header IN_LIST public_headers)
      set(side public)
    else()
      set(side internal)
    endif()
    file(CREATE_LINK ${root}/${folder}/${header} ${stage}/${side}/${folder}/${header} SYMBOLIC)
  endforeach()
  target_include_directories(${target} PUBLIC ${stage}/public PRIVATE ${stage}/internal)
  add_library(${target}_internals INTERFACE)
  target_include_directories(${target}_internals INTERFACE ${stage}/internal)
  target_link_libraries(${target}_internals INTERFACE ${target})
endfunction()
