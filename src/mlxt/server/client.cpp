#include "mlxt/server/client.h"

#include <httplib.h>

#include "mlxt/core/ascii.h"

namespace mlxt::server {

struct HttpClient::Impl {
  Impl(const std::string& host, int port) : client(host, port) {}
  httplib::Client client;
  httplib::Headers headers;
};

namespace {

ClientResponse convert(const httplib::Result& r) {
  ClientResponse out;
  if (!r) {
    out.body = httplib::to_string(r.error());
    return out;
  }
  out.status = r->status;
  out.body = r->body;
  out.content_type = r->get_header_value("Content-Type");
  for (const auto& [name, value] : r->headers) {
    out.headers[ascii_lower(name)] = value;
  }
  return out;
}

} // namespace

nlohmann::json ClientResponse::json() const {
  auto j = nlohmann::json::parse(body, nullptr, false);
  return j.is_discarded() ? nlohmann::json() : j;
}

HttpClient::HttpClient(const std::string& host,
                       int port,
                       const std::string& token)
    : impl_(std::make_unique<Impl>(host, port)) {
  impl_->client.set_connection_timeout(5);
  impl_->client.set_read_timeout(300);
  if (!token.empty()) {
    impl_->headers.emplace("Authorization", "Bearer " + token);
  }
}

HttpClient::~HttpClient() = default;

void HttpClient::set_header(const std::string& name, const std::string& value) {
  impl_->headers.erase(name);
  impl_->headers.emplace(name, value);
}

ClientResponse HttpClient::get(const std::string& path) {
  return convert(impl_->client.Get(path, impl_->headers));
}

ClientResponse HttpClient::post(const std::string& path,
                                const std::string& body,
                                const std::string& content_type) {
  return convert(impl_->client.Post(path, impl_->headers, body, content_type));
}

ClientResponse HttpClient::post(const std::string& path,
                                const nlohmann::json& body) {
  return post(path, body.dump());
}

ClientResponse HttpClient::del(const std::string& path) {
  return convert(impl_->client.Delete(path, impl_->headers));
}

ClientResponse
HttpClient::stream(const std::string& path,
                   const std::function<bool(const std::string&)>& on_chunk) {
  ClientResponse out;
  auto r = impl_->client.Get(
      path,
      impl_->headers,
      [&](const httplib::Response& res) {
        out.status = res.status;
        out.content_type = res.get_header_value("Content-Type");
        return true;
      },
      [&](const char* data, size_t n) {
        return on_chunk(std::string(data, n));
      });
  if (!r && out.status == 0) {
    out.body = httplib::to_string(r.error());
  }
  return out;
}

bool SseParser::feed(const std::string& chunk) {
  buffer_ += chunk;
  for (size_t end = buffer_.find("\n\n"); end != std::string::npos;
       end = buffer_.find("\n\n")) {
    std::string block = buffer_.substr(0, end);
    buffer_.erase(0, end + 2);
    std::string event = "message", data;
    size_t start = 0;
    while (start <= block.size()) {
      size_t nl = block.find('\n', start);
      if (nl == std::string::npos) {
        nl = block.size();
      }
      std::string line = block.substr(start, nl - start);
      if (line.starts_with("event: ")) {
        event = line.substr(7);
      } else if (line.starts_with("data: ")) {
        data += (data.empty() ? "" : "\n") + line.substr(6);
      }
      start = nl + 1;
    }
    if (!data.empty() && !on_event_(event, data)) {
      return false;
    }
  }
  return true;
}

} // namespace mlxt::server
