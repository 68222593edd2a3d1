# The SDK that `cmake --install build --prefix P` puts in place for code built
# outside this tree (connector plugins, domain services publishing through the
# outbox):
#   P/include/busline/*.h        the public headers (include/busline/)
#   P/lib/libbusline_*.a         the layers an outbox publisher links, producers
#                                down to core (static: nothing to deploy beside
#                                the program)
#   P/lib/pkgconfig/busline.pc   `pkg-config --cflags --libs busline`
# Included from CMakeLists.txt once the layer libraries exist.

# One version: the binary's (cli/main.c), read here rather than repeated.
file(STRINGS ${CMAKE_SOURCE_DIR}/cli/main.c busline_version_line REGEX "#define BUSLINE_VERSION \"")
string(REGEX REPLACE ".*\"([^\"]+)\".*" "\\1" BUSLINE_SDK_VERSION "${busline_version_line}")

file(GLOB busline_public_headers CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/include/busline/*.h)
install(FILES ${busline_public_headers} DESTINATION include/busline)

# Link order matters for static archives: each layer before the ones it uses.
set(busline_sdk_layers producers consumers schemas core)
set(BUSLINE_SDK_LIBS "")
foreach(layer ${busline_sdk_layers})
  install(TARGETS busline_${layer} ARCHIVE DESTINATION lib)
  string(APPEND BUSLINE_SDK_LIBS " -lbusline_${layer}")
endforeach()
# A sanitizer build's libraries need its runtime in the program linking them.
if(BUSLINE_SANITIZE)
  string(APPEND BUSLINE_SDK_LIBS " -fsanitize=address,undefined")
endif()

# The libraries are static, so their pkg-config modules go in Requires (not
# Requires.private): a plain `pkg-config --libs busline` must name them.
list(JOIN BUSLINE_PKG_DEPS " " BUSLINE_SDK_REQUIRES)
set(BUSLINE_PREFIX "@BUSLINE_PREFIX@") # kept for the install-time pass
configure_file(${CMAKE_SOURCE_DIR}/busline.pc.in ${CMAKE_BINARY_DIR}/busline.pc.in.configured @ONLY)
# The prefix is known only at install time (`--prefix P` overrides the
# configured one), so the last substitution happens then.
install(CODE "
  set(BUSLINE_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  configure_file(\"${CMAKE_BINARY_DIR}/busline.pc.in.configured\"
                 \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/lib/pkgconfig/busline.pc\" @ONLY)
  message(STATUS \"Installing: \$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/lib/pkgconfig/busline.pc\")
")
