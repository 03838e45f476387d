#include "mlxt/cli/flag_spelling.h"

#include <algorithm>

namespace mlxt::cli {

std::vector<std::string> underscore_flag_names(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  for (size_t i = 1; i < args.size(); ++i) {
    std::string& arg = args[i];
    if (arg == "--") {
      break; // what follows is positional, as CLI11 reads it
    }
    if (!arg.starts_with("--")) {
      continue;
    }
    auto name_end = std::min(arg.find('='), arg.size());
    std::replace(arg.begin() + 2, arg.begin() + name_end, '-', '_');
  }
  return args;
}

} // namespace mlxt::cli
