#include "net/send_now.h"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <string>

namespace mec::net {
namespace {

namespace asio = boost::asio;

TEST(SendNowTest, DropSentKeepsWhatIsLeftInOrder) {
  const std::string a = "abc", b = "defgh", c = "ij";
  auto parts = [&] { return std::array<asio::const_buffer, 3>{asio::buffer(a), asio::buffer(b), asio::buffer(c)}; };
  auto text = [](const std::array<asio::const_buffer, 3>& p, size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s.append(static_cast<const char*>(p[i].data()), p[i].size());
    return s;
  };
  auto p = parts();
  EXPECT_EQ(DropSent(p, 3, 0), 3u);
  EXPECT_EQ(text(p, 3), "abcdefghij");
  p = parts();
  ASSERT_EQ(DropSent(p, 3, 2), 3u);  // within the first part
  EXPECT_EQ(text(p, 3), "cdefghij");
  p = parts();
  ASSERT_EQ(DropSent(p, 3, 3), 2u);  // the first part exactly
  EXPECT_EQ(text(p, 2), "defghij");
  EXPECT_EQ(p[2].size(), 0u);
  p = parts();
  ASSERT_EQ(DropSent(p, 3, 5), 2u);  // into the second part
  EXPECT_EQ(text(p, 2), "fghij");
  p = parts();
  EXPECT_EQ(DropSent(p, 3, 10), 0u);  // all of it
}

TEST(SendNowTest, TakesWhatTheKernelTakesWithoutBlockingAndReportsAClosedPeer) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  const int small = 4096;
  ::setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  const std::string big(4u << 20, 'x');
  const asio::const_buffer whole(big.data(), big.size());
  boost::system::error_code ec;
  const size_t sent = SendNow(sv[0], std::span(&whole, 1), ec);  // the socket is blocking: must not block
  EXPECT_FALSE(ec);
  EXPECT_GT(sent, 0u);
  EXPECT_LT(sent, big.size());
  // Full: nothing more now, and no error (EAGAIN).
  const size_t more = SendNow(sv[0], std::span(&whole, 1), ec);
  EXPECT_FALSE(ec);
  EXPECT_EQ(more, 0u);
  // The peer closed: an error, not a SIGPIPE.
  ::close(sv[1]);
  const asio::const_buffer one(big.data(), 1);
  SendNow(sv[0], std::span(&one, 1), ec);
  EXPECT_TRUE(ec);
  ::close(sv[0]);
}

}  // namespace
}  // namespace mec::net
