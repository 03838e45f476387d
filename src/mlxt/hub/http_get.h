// HTTP(S) GETs for the model hub client: a small response into memory, and
// a file transfer that continues a partial file with a Range request. The
// only file that includes libcurl. Only http and https are followed
// (redirects included); credentials are not sent to a redirect's host.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace mlxt::hub {

struct GetResult {
  long status = 0;   // HTTP status; 0 when no response came
  std::string error; // why the transfer failed ("" when it completed)
  std::string body;  // http_get only
  std::map<std::string, std::string> headers; // lower-case names, last wins
};

//! GET `url` into memory (at most `max_bytes`), with extra request
//! `headers` ("Name: value").
GetResult http_get(const std::string& url,
                   const std::vector<std::string>& headers,
                   size_t max_bytes = 64 << 20);

//! GET `url` into `file`: when `file` has bytes, asks for the rest
//! ("Range: bytes=<size>-") and appends on 206; a 200 rewrites it from
//! the start. `on_bytes(size of file)` is called as data arrives. A
//! transfer cut short leaves what arrived in `file` and sets `error`.
GetResult http_get_to_file(const std::string& url,
                           const std::vector<std::string>& headers,
                           const std::filesystem::path& file,
                           const std::function<void(std::uint64_t)>& on_bytes);

//! `text` with every byte outside [A-Za-z0-9._~-] percent-encoded.
std::string url_encode(const std::string& text);

} // namespace mlxt::hub
