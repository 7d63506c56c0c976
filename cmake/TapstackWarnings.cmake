# Compiler flags shared by every target of the project.
add_library(tapstack_build_flags INTERFACE)
target_compile_options(tapstack_build_flags INTERFACE -Wall -Wextra -Wpedantic)
if(TAPSTACK_WERROR)
  target_compile_options(tapstack_build_flags INTERFACE -Werror)
endif()
if(TAPSTACK_SANITIZE)
  target_compile_options(tapstack_build_flags INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(tapstack_build_flags INTERFACE -fsanitize=address,undefined)
endif()
install(TARGETS tapstack_build_flags EXPORT tapstackTargets)
