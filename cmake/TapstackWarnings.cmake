# Compiler flags shared by every target of the project.
add_library(tapstack_build_flags INTERFACE)
# Designated initializers that rely on member defaults are the house style, so GCC's
# missing-field-initializers warning (which flags them) is off.
target_compile_options(tapstack_build_flags INTERFACE -Wall -Wextra -Wpedantic
  -Wno-missing-field-initializers)
if(TAPSTACK_WERROR)
  target_compile_options(tapstack_build_flags INTERFACE -Werror)
endif()
if(TAPSTACK_SANITIZE)
  target_compile_options(tapstack_build_flags INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(tapstack_build_flags INTERFACE -fsanitize=address,undefined)
endif()
if(TAPSTACK_BUILD_FUZZ)
  # Coverage instrumentation for libFuzzer in every library, without libFuzzer's main(), plus the
  # sanitizers that turn silent memory errors and UB into crashes the fuzzer reports.
  target_compile_options(tapstack_build_flags INTERFACE
    -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(tapstack_build_flags INTERFACE -fsanitize=address,undefined)
endif()
install(TARGETS tapstack_build_flags EXPORT tapstackTargets)
