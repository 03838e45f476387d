// Crash-safe file replacement.
//
// A file is written under a hidden temporary name next to its target, flushed
// to disk, renamed over the target and the folder entry flushed too, so a
// reader sees either the old file or the complete new one, never a torn one.
// Errors are Error(io) naming the file and the operating system's reason.
#pragma once

#include <filesystem>
#include <string_view>

namespace mlxt {

//! The temporary name used while writing `target`:
//! "<folder>/.<name>.tmp-<pid><suffix>". Hidden, so folder scans skip it.
std::filesystem::path temp_path_for(const std::filesystem::path& target,
                                    std::string_view suffix = "");

//! Flushes the contents of `file` to disk (fsync).
void fsync_file(const std::filesystem::path& file);

//! Flushes the entries of `dir` (new, renamed or removed files) to disk.
void fsync_dir(const std::filesystem::path& dir);

//! Makes the complete file `temp` become `target`: fsync of `temp`, rename
//! over `target`, fsync of the folder. Removes `temp` if the rename fails.
void commit_temp_file(const std::filesystem::path& temp,
                      const std::filesystem::path& target);

//! Writes `bytes` to `file` atomically (temp file, fsync, rename, fsync of
//! the folder). The folder must exist.
void write_file_atomic(const std::filesystem::path& file,
                       std::string_view bytes);

} // namespace mlxt
