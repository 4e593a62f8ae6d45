#pragma once
// One accepted connection's byte stream: the TCP socket, or TLS over it (server.tls,
// docs/tls.md). It is an asio AsyncReadStream/AsyncWriteStream, so Beast's http::async_read and
// async_write take it as they take a socket; on plain HTTP each call is one branch away from the
// socket's own. Socket-level operations (cancel, shutdown, close, options) go to socket().
//
// Not movable: the TLS layer refers to the socket member. The TLS context is shared: a reload
// (HttpServer::ReloadTls) gives new connections a new one while this one keeps its own.

#include <memory>
#include <optional>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

namespace mec::net {

class ServerStream {
 public:
  using tcp = boost::asio::ip::tcp;
  using executor_type = tcp::socket::executor_type;
  using Tls = boost::asio::ssl::stream<tcp::socket&>;

  // `tls`: null for plain HTTP.
  ServerStream(tcp::socket sock, std::shared_ptr<boost::asio::ssl::context> tls) : sock_(std::move(sock)), ctx_(std::move(tls)) {
    if (ctx_) tls_.emplace(sock_, *ctx_);
  }
  ServerStream(const ServerStream&) = delete;
  ServerStream& operator=(const ServerStream&) = delete;

  executor_type get_executor() { return sock_.get_executor(); }
  tcp::socket& socket() { return sock_; }
  Tls* tls() { return tls_ ? &*tls_ : nullptr; }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& b, Token&& token) {
    if (tls_) return tls_->async_read_some(b, std::forward<Token>(token));
    return sock_.async_read_some(b, std::forward<Token>(token));
  }
  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& b, Token&& token) {
    if (tls_) return tls_->async_write_some(b, std::forward<Token>(token));
    return sock_.async_write_some(b, std::forward<Token>(token));
  }

 private:
  tcp::socket sock_;
  std::shared_ptr<boost::asio::ssl::context> ctx_;  // outlives tls_ (declared before it)
  std::optional<Tls> tls_;
};

}  // namespace mec::net
