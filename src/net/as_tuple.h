#pragma once
// `co_await op(..., kTuple)`: the operation's error code comes back in a tuple with its result
// instead of as an exception. One definition for every file of net/ (they share a translation
// unit in the unity build of `make test`).

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace mec::net {

inline constexpr auto kTuple = boost::asio::as_tuple(boost::asio::use_awaitable);

}  // namespace mec::net
