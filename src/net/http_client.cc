#include "net/http_client.h"

#include <future>
#include <optional>
#include <thread>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "api/hints.h"
#include "net/as_tuple.h"

namespace mec::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {
constexpr size_t kMaxAnswerBody = 64 << 20;

std::string Describe(const beast::error_code& ec, const char* step) {
  if (ec == beast::error::timeout) return std::string(step) + ": timed out";
  return std::string(step) + ": " + ec.message();
}

// One call on its own connection. Never throws (errors go into the reply).
asio::awaitable<ClientReply> Exchange(tcp::endpoint ep, std::string host, ClientCall call) {
  ClientReply reply;
  beast::tcp_stream stream(co_await asio::this_coro::executor);
  // One deadline for the whole exchange: the stream's timer applies to every operation after it.
  stream.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(call.timeout));
  if (auto [ec] = co_await stream.async_connect(ep, kTuple); ec) {
    reply.error = Describe(ec, "connect");
    co_return reply;
  }
  http::request<http::string_body> req;
  req.method(http::string_to_verb(call.method));
  req.target(call.target);
  req.version(11);
  req.set(http::field::host, host);
  req.keep_alive(false);
  for (const auto& [k, v] : call.headers) req.set(k, v);
  if (!call.body.empty()) {
    if (req[http::field::content_type].empty()) req.set(http::field::content_type, "application/json");
    req.body() = std::move(call.body);
  }
  req.prepare_payload();
  if (auto [ec, n] = co_await http::async_write(stream, req, kTuple); ec) {
    reply.error = Describe(ec, "send");
    co_return reply;
  }
  beast::flat_buffer buf;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxAnswerBody);
  // Piece by piece, to tell the caller when the body's first bytes come.
  while (!parser.is_done()) {
    auto [ec, n] = co_await http::async_read_some(stream, buf, parser, kTuple);
    if (ec) {
      reply.error = Describe(ec, "read");
      co_return reply;
    }
    if (call.on_first_body && parser.is_header_done() && !parser.get().body().empty()) {
      call.on_first_body();
      call.on_first_body = nullptr;
    }
  }
  auto& res = parser.get();
  reply.status = static_cast<int>(res.result_int());
  for (const auto& f : res) reply.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  reply.body = std::move(res.body());
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  co_return reply;
}

}  // namespace

std::string_view ClientReply::Header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (IEquals(k, name)) return v;
  return {};
}

struct HttpClient::Impl {
  Impl(std::string h, int port, int threads)
      : host(std::move(h)), work(asio::make_work_guard(ioc)) {
    beast::error_code ec;
    auto addr = asio::ip::make_address(host, ec);
    endpoint = tcp::endpoint(ec ? asio::ip::make_address("127.0.0.1") : addr, static_cast<unsigned short>(port));
    for (int i = 0; i < std::max(1, threads); ++i) pool.emplace_back([this] { ioc.run(); });
  }
  std::string host;
  tcp::endpoint endpoint;
  asio::io_context ioc;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> pool;
};

HttpClient::HttpClient(std::string host, int port, int threads) : impl_(std::make_unique<Impl>(std::move(host), port, threads)) {}

HttpClient::~HttpClient() {
  impl_->work.reset();  // run() returns once every call in flight has ended (each has a deadline)
  for (auto& t : impl_->pool) t.join();
}

void HttpClient::Send(ClientCall call, std::function<void(ClientReply)> done) {
  const std::string host_header = impl_->host + ":" + std::to_string(impl_->endpoint.port());
  asio::co_spawn(impl_->ioc, Exchange(impl_->endpoint, host_header, std::move(call)),
                 [done = std::move(done)](std::exception_ptr e, ClientReply r) {
                   if (e) {
                     r = ClientReply{};
                     r.error = "client exception";
                   }
                   done(std::move(r));
                 });
}

ClientReply HttpClient::Fetch(ClientCall call) {
  std::promise<ClientReply> p;
  auto f = p.get_future();
  Send(std::move(call), [&p](ClientReply r) { p.set_value(std::move(r)); });
  return f.get();
}

}  // namespace mec::net
