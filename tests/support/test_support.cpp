#include <sys/resource.h>

#include "support/test_support.h"
#include <csignal>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

#include "mlxt/gguf/model_list.h"

namespace mlxt::testing {

namespace fs = std::filesystem;

fs::path smollm2_gguf() {
  const fs::path file =
      gguf::model_cache_dir() / "SmolLM2-135M-Instruct.Q4_1.gguf";
  return fs::is_regular_file(file) ? file : fs::path();
}

TempDir::TempDir() {
  std::random_device rd;
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto candidate =
        fs::temp_directory_path() /
        ("mlxt-test-" + std::to_string(getpid()) + "-" + std::to_string(rd()));
    if (fs::create_directory(candidate)) {
      path_ = candidate;
      return;
    }
  }
  throw std::runtime_error("TempDir: could not create a folder");
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

CommandResult
run_command(const std::vector<std::string>& args,
            const std::vector<std::pair<std::string, std::string>>& env) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) {
    throw std::runtime_error("run_command: pipe failed");
  }
  pid_t pid = fork();
  if (pid == 0) {
    dup2(pipe_fds[1], STDOUT_FILENO);
    dup2(pipe_fds[1], STDERR_FILENO);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    for (const auto& [name, value] : env) {
      setenv(name.c_str(), value.c_str(), 1);
    }
    std::vector<char*> argv;
    for (const auto& a : args) {
      argv.push_back(const_cast<char*>(a.c_str()));
    }
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  close(pipe_fds[1]);
  CommandResult result;
  std::array<char, 4096> buffer;
  ssize_t n;
  while ((n = read(pipe_fds[0], buffer.data(), buffer.size())) > 0) {
    result.output.append(buffer.data(), n);
  }
  close(pipe_fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code =
      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

FileSizeLimit::FileSizeLimit(unsigned long bytes) {
  rlimit limit{};
  getrlimit(RLIMIT_FSIZE, &limit);
  old_soft_limit_ = limit.rlim_cur;
  old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
  limit.rlim_cur = bytes;
  setrlimit(RLIMIT_FSIZE, &limit);
}

FileSizeLimit::~FileSizeLimit() {
  rlimit limit{};
  getrlimit(RLIMIT_FSIZE, &limit);
  limit.rlim_cur = old_soft_limit_;
  setrlimit(RLIMIT_FSIZE, &limit);
  std::signal(SIGXFSZ, old_handler_);
}

std::string mlxt_binary() {
  return MLXT_BINARY;
}

namespace {

// The build's paths, unless the environment names others: a test binary
// carried to another machine (the GPU host) runs from a copy of the tree
// there, with that machine's Python.
std::string from_env_or(const char* variable, const char* built_in) {
  const char* value = std::getenv(variable);
  return value && *value ? value : built_in;
}

} // namespace

std::string reference_python() {
  return from_env_or("MLXT_TEST_PYTHON", MLXT_TEST_PYTHON);
}

bool have_reference_python() {
  return fs::exists(reference_python());
}

fs::path source_dir() {
  return from_env_or("MLXT_SOURCE_DIR", MLXT_SOURCE_DIR);
}

fs::path bad_input(const std::string& relative) {
  return source_dir() / "tests" / "fixtures" / "bad" / relative;
}

void write_file(const fs::path& file, const std::string& text) {
  if (file.has_parent_path()) {
    fs::create_directories(file.parent_path());
  }
  std::ofstream out(file, std::ios::binary);
  out << text;
}

std::string read_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace mlxt::testing
