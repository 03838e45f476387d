// Child processes for jobs: start a program with its output appended to a
// log file, poll whether it ended, signal it, and describe how it ended.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace mlxt::jobs {

//! Starts `argv` (argv[0] a path) with stdin from /dev/null and stdout and
//! stderr appended to `log_file`, and no other inherited descriptors (the
//! server's sockets stay the server's). The child gets SIGTERM when the
//! calling thread ends, so trainers checkpoint and stop when the server
//! dies. Error(io) when fork fails; a program that cannot be executed exits
//! with status 127.
pid_t spawn_process(const std::vector<std::string>& argv,
                    const std::filesystem::path& log_file);

struct ProcessEnd {
  std::optional<int> exit_status; // set when the process exited
  std::optional<int> signal;      // set when a signal ended it
};

//! The end of child `pid` if it has ended (it is then reaped), else nullopt.
std::optional<ProcessEnd> poll_process(pid_t pid);

//! Sends `signal` to `pid`; false when no such process exists.
bool signal_process(pid_t pid, int signal);

//! True when process `pid` exists and its command line contains `needle`
//! (used to recognise a trainer left running by a previous server).
bool process_running_with(pid_t pid, const std::string& needle);

//! "SIGKILL", "SIGTERM", ... or "signal N".
std::string signal_name(int signal);

} // namespace mlxt::jobs
