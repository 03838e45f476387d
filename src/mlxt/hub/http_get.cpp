#include "mlxt/hub/http_get.h"

#include <curl/curl.h>

#include <cctype>
#include <cstdio>
#include <memory>
#include <mutex>

#include "mlxt/core/ascii.h"
#include "mlxt/core/error.h"

namespace mlxt::hub {

namespace fs = std::filesystem;

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

using Easy = std::unique_ptr<CURL, void (*)(CURL*)>;
using Headers = std::unique_ptr<curl_slist, void (*)(curl_slist*)>;

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(user);
  std::string line(data, size * count);
  if (line.starts_with("HTTP/")) {
    headers->clear(); // a redirect's or 100-continue's headers are not ours
  }
  const size_t colon = line.find(':');
  if (colon != std::string::npos) {
    const std::string name = ascii_lower(line.substr(0, colon));
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    value.erase(value.find_last_not_of(" \t\r\n") + 1);
    (*headers)[name] = value;
  }
  return size * count;
}

// A handle with what every request shares: protocols, redirects, timeouts
// (a stalled transfer ends after 60 s below 1 byte/s), headers.
Easy make_easy(const std::string& url,
               const std::vector<std::string>& extra,
               Headers& headers,
               GetResult& result) {
  global_init();
  Easy easy(curl_easy_init(), curl_easy_cleanup);
  if (!easy) {
    fail(ErrorCode::internal, "libcurl could not start a transfer");
  }
  CURL* c = easy.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "mlx-train/1");
  for (const std::string& h : extra) {
    headers.reset(curl_slist_append(headers.release(), h.c_str()));
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &result.headers);
  return easy;
}

void finish(CURL* c, CURLcode code, GetResult& result) {
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &result.status);
  if (code != CURLE_OK) {
    result.error = curl_easy_strerror(code);
  }
}

struct MemorySink {
  std::string* body;
  size_t max_bytes;
};

size_t to_memory(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<MemorySink*>(user);
  if (sink->body->size() + size * count > sink->max_bytes) {
    return 0; // ends the transfer: larger than a listing can be
  }
  sink->body->append(data, size * count);
  return size * count;
}

struct FileSink {
  CURL* curl;
  FILE* out = nullptr;
  const fs::path* file;
  std::uint64_t offset; // bytes already in the file
  bool opened = false;
  std::uint64_t size = 0;
  const std::function<void(std::uint64_t)>* on_bytes;
  bool write_failed = false;
};

size_t to_file(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<FileSink*>(user);
  if (!sink->opened) {
    // The status decides: 206 continues the file, anything else rewrites it.
    long status = 0;
    curl_easy_getinfo(sink->curl, CURLINFO_RESPONSE_CODE, &status);
    const bool append = status == 206 && sink->offset > 0;
    sink->out = std::fopen(sink->file->c_str(), append ? "ab" : "wb");
    sink->size = append ? sink->offset : 0;
    sink->opened = true;
    if (!sink->out) {
      sink->write_failed = true;
      return 0;
    }
  }
  if (std::fwrite(data, 1, size * count, sink->out) != size * count) {
    sink->write_failed = true;
    return 0;
  }
  sink->size += size * count;
  (*sink->on_bytes)(sink->size);
  return size * count;
}

} // namespace

GetResult http_get(const std::string& url,
                   const std::vector<std::string>& headers,
                   size_t max_bytes) {
  GetResult result;
  Headers list(nullptr, curl_slist_free_all);
  Easy easy = make_easy(url, headers, list, result);
  MemorySink sink{&result.body, max_bytes};
  curl_easy_setopt(easy.get(), CURLOPT_WRITEFUNCTION, to_memory);
  curl_easy_setopt(easy.get(), CURLOPT_WRITEDATA, &sink);
  finish(easy.get(), curl_easy_perform(easy.get()), result);
  return result;
}

GetResult http_get_to_file(const std::string& url,
                           const std::vector<std::string>& headers,
                           const fs::path& file,
                           const std::function<void(std::uint64_t)>& on_bytes) {
  GetResult result;
  std::error_code ec;
  const std::uint64_t offset = fs::exists(file) ? fs::file_size(file, ec) : 0;
  std::vector<std::string> all = headers;
  if (offset > 0) {
    all.push_back("Range: bytes=" + std::to_string(offset) + "-");
  }
  Headers list(nullptr, curl_slist_free_all);
  Easy easy = make_easy(url, all, list, result);
  FileSink sink{.curl = easy.get(),
                .file = &file,
                .offset = offset,
                .on_bytes = &on_bytes};
  curl_easy_setopt(easy.get(), CURLOPT_WRITEFUNCTION, to_file);
  curl_easy_setopt(easy.get(), CURLOPT_WRITEDATA, &sink);
  // An error page is not the file: 4xx/5xx bodies are not written.
  curl_easy_setopt(easy.get(), CURLOPT_FAILONERROR, 1L);
  finish(easy.get(), curl_easy_perform(easy.get()), result);
  if (sink.out && std::fclose(sink.out) != 0) {
    sink.write_failed = true;
  }
  if (sink.write_failed) {
    fail(ErrorCode::io, "cannot write the download", {.file = file.string()});
  }
  return result;
}

std::string url_encode(const std::string& text) {
  static const char* digits = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '.' || c == '_' || c == '~' || c == '-') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  return out;
}

} // namespace mlxt::hub
