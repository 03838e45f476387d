#include "mlxt/server/host.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

#include "mlxt/core/ascii.h"

namespace mlxt::server {

namespace {

bool is_port(const std::string& s) {
  return !s.empty() && s.size() <= 5 &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) {
           return std::isdigit(c);
         });
}

} // namespace

std::string host_name(const std::string& header_value) {
  const std::string value = ascii_lower(header_value);
  if (value.starts_with("[")) {
    const size_t close = value.find(']');
    if (close == std::string::npos) {
      return "";
    }
    const std::string rest = value.substr(close + 1);
    if (!rest.empty() && !(rest[0] == ':' && is_port(rest.substr(1)))) {
      return "";
    }
    return value.substr(1, close - 1);
  }
  const size_t colon = value.find(':');
  if (colon == std::string::npos) {
    return value;
  }
  // A bare IPv6 literal has several colons: Host headers must bracket it.
  return is_port(value.substr(colon + 1)) ? value.substr(0, colon) : "";
}

bool is_loopback_host(const std::string& host) {
  // inet_pton takes only complete literals ("127.0.0.1", not "127.1" nor
  // "127.0.0.1.nip.io"), so a DNS name never reaches the address checks.
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    return IN6_IS_ADDR_LOOPBACK(&v6);
  }
  return ascii_lower(host) == "localhost";
}

} // namespace mlxt::server
