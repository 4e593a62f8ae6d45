#pragma once
// HOST:PORT listen addresses (server.listen, --listen). The port is the text after the last ':',
// digits only, 0 to 65535 (0: the system picks a free port).

#include <charconv>
#include <optional>
#include <string_view>

namespace mec {

// The port of `host_port`, or nullopt when it has no ':' or its port is not 0..65535 in digits.
inline std::optional<int> ListenPort(std::string_view host_port) {
  const auto colon = host_port.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string_view text = host_port.substr(colon + 1);
  if (text.empty() || text.size() > 5) return std::nullopt;
  int port = 0;
  const auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (err != std::errc() || end != text.data() + text.size() || port < 0 || port > 65535) return std::nullopt;
  return port;
}

}  // namespace mec
