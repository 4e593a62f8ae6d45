#pragma once

// Sending on a plain TCP socket without the reactor's round trip.
//
// Asio (Boost 1.81, Debian 12) never runs a completion handler inside the initiating call: a write
// that the kernel takes at once is still posted to the scheduler's queue, and the coroutine that
// awaits it resumes one turn of the queue later (an epoll_wait and the work of every other socket
// ready then). The server's answers use this: the caller sends what the kernel takes now and awaits
// an async_write only for what is left. Requests to upstreams do not: the read of the answer that
// follows would come too soon and find nothing (a recv answering EAGAIN), where the scheduler's
// turn gave the upstream the time to answer (docs/benchmarks.md, fifth and seventh passes).

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstddef>
#include <span>

#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>

namespace mec::net {

// Sends `parts` with one non-blocking sendmsg. Returns the bytes the kernel took: all, some, or 0
// (the socket's buffer is full: EAGAIN). A failure other than EAGAIN sets `ec` (a reset, a closed
// socket); SIGPIPE is not raised.
inline size_t SendNow(int fd, std::span<const boost::asio::const_buffer> parts, boost::system::error_code& ec) {
  iovec iov[4];
  size_t n = 0;
  for (const auto& p : parts) {
    if (p.size() == 0) continue;
    if (n == std::size(iov)) break;  // never with the callers' at most three parts
    iov[n].iov_base = const_cast<void*>(p.data());
    iov[n].iov_len = p.size();
    ++n;
  }
  if (n == 0) return 0;
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = n;
  for (;;) {
    const ssize_t sent = ::sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (sent >= 0) return static_cast<size_t>(sent);
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) ec.assign(errno, boost::system::system_category());
    return 0;
  }
}

// Drops the first `sent` bytes from `parts[0, n)` in place; returns how many parts are left.
inline size_t DropSent(std::span<boost::asio::const_buffer> parts, size_t n, size_t sent) {
  size_t first = 0;
  while (first < n && sent >= parts[first].size()) sent -= parts[first++].size();
  if (first < n) parts[first] += sent;
  size_t left = 0;
  for (size_t i = first; i < n; ++i) parts[left++] = parts[i];
  for (size_t i = left; i < n; ++i) parts[i] = boost::asio::const_buffer();
  return left;
}

}  // namespace mec::net
