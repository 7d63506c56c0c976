// Sub-commands of the `tapstack` tool. Each takes the arguments after its own name and returns the
// process exit status (0 on success, 2 on a usage error, an errno value for a connection error).
#ifndef TAPSTACK_TOOLS_COMMANDS_H_
#define TAPSTACK_TOOLS_COMMANDS_H_

#include <span>
#include <string_view>

namespace tapstack::tools {

int RunDemo(std::span<const std::string_view> args);
int RunUp(std::span<const std::string_view> args);
int RunNc(std::span<const std::string_view> args);
int RunSim(std::span<const std::string_view> args);
int RunDiagram(std::span<const std::string_view> args);
int RunLoad(std::span<const std::string_view> args);

}  // namespace tapstack::tools

#endif  // TAPSTACK_TOOLS_COMMANDS_H_
