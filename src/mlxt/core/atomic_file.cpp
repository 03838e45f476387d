#include "mlxt/core/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "mlxt/core/error.h"

namespace mlxt {

namespace fs = std::filesystem;

namespace {

// The context of an error about `file` (and a tensor or JSON key in it).
ErrorContext in_file(std::string file, std::string key = {}) {
  return ErrorContext{std::move(file), 0, std::move(key)};
}

[[noreturn]] void
fail_io(const std::string& what, const fs::path& file, int saved_errno) {
  fail(ErrorCode::io,
       what + " failed: " + std::strerror(saved_errno),
       in_file(file.string()));
}

// Closes the descriptor on every path out of a function.
class FileDescriptor {
public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }
  // Closes now so that a failing close (delayed write error) is reported.
  int release_and_close() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

private:
  int fd_;
};

void fsync_path(const fs::path& path, int flags, const char* what) {
  FileDescriptor fd(::open(path.c_str(), flags | O_CLOEXEC));
  if (fd.get() < 0) {
    fail_io(std::string("opening for ") + what, path, errno);
  }
  if (::fsync(fd.get()) != 0) {
    fail_io(what, path, errno);
  }
}

} // namespace

fs::path temp_path_for(const fs::path& target, std::string_view suffix) {
  // Appended piece by piece: GCC 12 warns falsely on "." + std::string.
  std::string name(".");
  name += target.filename().string();
  name += ".tmp-";
  name += std::to_string(::getpid());
  name += suffix;
  return target.parent_path() / name;
}

void fsync_file(const fs::path& file) {
  fsync_path(file, O_RDONLY, "fsync");
}

void fsync_dir(const fs::path& dir) {
  // An empty parent means the current folder.
  fsync_path(dir.empty() ? fs::path(".") : dir,
             O_RDONLY | O_DIRECTORY,
             "fsync of folder");
}

void commit_temp_file(const fs::path& temp, const fs::path& target) {
  try {
    fsync_file(temp);
    if (std::rename(temp.c_str(), target.c_str()) != 0) {
      fail_io("renaming " + temp.string() + " over it", target, errno);
    }
  } catch (...) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    throw;
  }
  fsync_dir(target.parent_path());
}

void write_file_atomic(const fs::path& file, std::string_view bytes) {
  fs::path temp = temp_path_for(file);
  {
    FileDescriptor fd(
        ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (fd.get() < 0) {
      fail_io("creating a temporary file", temp, errno);
    }
    const char* data = bytes.data();
    size_t left = bytes.size();
    while (left > 0) {
      ssize_t n = ::write(fd.get(), data, left);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0) {
        int saved = errno;
        std::error_code ignored;
        fs::remove(temp, ignored);
        fail_io("writing", temp, saved);
      }
      data += n;
      left -= static_cast<size_t>(n);
    }
    // close() reports delayed write errors; commit_temp_file does the fsync.
    if (fd.release_and_close() != 0) {
      int saved = errno;
      std::error_code ignored;
      fs::remove(temp, ignored);
      fail_io("closing", temp, saved);
    }
  }
  commit_temp_file(temp, file);
}

} // namespace mlxt
