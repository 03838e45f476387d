// Helpers shared by the test programs: temporary folders, running the real
// `mlxt` binary and the reference Python, and asserting on mlxt::Error.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "mlxt/core/error.h"

namespace mlxt::testing {

//! A fresh folder under the system temp dir, removed when destroyed.
class TempDir {
public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const {
    return path_ / name;
  }

private:
  std::filesystem::path path_;
};

struct CommandResult {
  int exit_code = -1;
  std::string output; // stdout and stderr together
};

//! Runs `args` (argv[0] first, no shell) and captures its output; `env`
//! entries are set in the child's environment.
CommandResult
run_command(const std::vector<std::string>& args,
            const std::vector<std::pair<std::string, std::string>>& env = {});

//! Path of the built `mlxt` binary.
std::string mlxt_binary();
//! Path of the test venv's python (may not exist: see have_reference_python).
std::string reference_python();
bool have_reference_python();
//! The repository root.
std::filesystem::path source_dir();
//! tests/fixtures/bad/`relative`: a malformed input kept as a file, named by
//! what is wrong with it.
std::filesystem::path bad_input(const std::string& relative);

//! The SmolLM2-135M-Instruct GGUF that scripts/fetch-smollm2 puts in the
//! model cache ($MLXT_HOME/models, default ~/.cache/mlxt/models), or an
//! empty path when it is not there.
std::filesystem::path smollm2_gguf();

//! While alive, writes past `bytes` in any file fail with EFBIG, as writes
//! to a full disk fail (ENOSPC): RLIMIT_FSIZE is lowered and SIGXFSZ
//! ignored, both inherited by child processes. Restores both on exit.
class FileSizeLimit {
public:
  explicit FileSizeLimit(unsigned long bytes);
  ~FileSizeLimit();
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

private:
  unsigned long old_soft_limit_;
  void (*old_handler_)(int);
};

//! Writes `text` to `file` (creating parent folders).
void write_file(const std::filesystem::path& file, const std::string& text);
std::string read_file(const std::filesystem::path& file);

} // namespace mlxt::testing

//! Asserts that `statement` throws mlxt::Error with `code` and a message
//! (what()) containing `substring`.
#define EXPECT_MLXT_ERROR(statement, error_code, substring)                    \
  do {                                                                         \
    try {                                                                      \
      statement;                                                               \
      ADD_FAILURE() << "expected mlxt::Error(" #error_code                     \
                       ") from " #statement;                                   \
    } catch (const mlxt::Error& e) {                                           \
      EXPECT_EQ(e.code(), mlxt::ErrorCode::error_code) << e.what();            \
      EXPECT_NE(std::string(e.what()).find(substring), std::string::npos)      \
          << "message: " << e.what()                                           \
          << "\nexpected to contain: " << (substring);                         \
    }                                                                          \
  } while (0)
