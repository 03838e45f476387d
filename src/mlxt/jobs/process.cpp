#include "mlxt/jobs/process.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iterator>

#include "mlxt/core/error.h"

namespace mlxt::jobs {

pid_t spawn_process(const std::vector<std::string>& argv,
                    const std::filesystem::path& log_file) {
  // Everything the child needs is prepared before fork: between fork and
  // exec only async-signal-safe calls are allowed in a threaded process.
  std::vector<char*> args;
  for (const auto& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  const std::string log = log_file.string();
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    fail(ErrorCode::io,
         std::string("cannot start a process: ") + std::strerror(errno));
  }
  if (pid > 0) {
    return pid;
  }
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != parent) {
    _exit(1); // the server died before prctl took effect
  }
  int in = open("/dev/null", O_RDONLY);
  int out = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (in < 0 || out < 0) {
    _exit(126);
  }
  dup2(in, STDIN_FILENO);
  dup2(out, STDOUT_FILENO);
  dup2(out, STDERR_FILENO);
  syscall(SYS_close_range, 3U, ~0U, 0U);
  // Signals blocked or ignored by server threads must not leak into the
  // trainer's handling of SIGTERM/SIGINT.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  signal(SIGPIPE, SIG_DFL);
  execv(args[0], args.data());
  _exit(127);
}

std::optional<ProcessEnd> poll_process(pid_t pid) {
  int status = 0;
  pid_t r = waitpid(pid, &status, WNOHANG);
  if (r == 0) {
    return std::nullopt;
  }
  ProcessEnd end;
  if (r < 0) {
    // Not our child any more (should not happen): report it as gone.
    end.exit_status = -1;
  } else if (WIFEXITED(status)) {
    end.exit_status = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    end.signal = WTERMSIG(status);
  }
  return end;
}

bool signal_process(pid_t pid, int signal) {
  return pid > 0 && kill(pid, signal) == 0;
}

bool process_running_with(pid_t pid, const std::string& needle) {
  if (pid <= 0) {
    return false;
  }
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline",
                   std::ios::binary);
  std::string cmdline{std::istreambuf_iterator<char>(in),
                      std::istreambuf_iterator<char>()};
  for (char& c : cmdline) {
    if (c == '\0') {
      c = ' ';
    }
  }
  return !cmdline.empty() && cmdline.find(needle) != std::string::npos;
}

std::string signal_name(int signal) {
  const char* abbrev = sigabbrev_np(signal);
  return abbrev ? std::string("SIG") + abbrev
                : "signal " + std::to_string(signal);
}

} // namespace mlxt::jobs
