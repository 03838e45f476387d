// One spelling for every flag. Flags are declared, shown in --help and named
// in messages with underscores (`--mask_prompt`, `--batch_size`): `train`
// takes every config key as a flag, and the keys are spelled so in YAML, in
// the REST API and in mlx-lm's configs. The dashed spelling
// (`--mask-prompt`, as mlx-lm's own command line has it) is accepted on
// every command by rewriting argv once, before CLI11 parses it.
#pragma once

#include <string>
#include <vector>

namespace mlxt::cli {

//! argv with each long flag's name (`--a-b` or `--a-b=value`; the value is
//! kept as given) in the underscore spelling. Short flags, values,
//! subcommand names and everything after a bare `--` are left as they are.
std::vector<std::string> underscore_flag_names(int argc, char** argv);

} // namespace mlxt::cli
