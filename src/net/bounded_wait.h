#pragma once
// Waiting on another thread's answer from a coroutine, for at most a bound (the shared cache,
// API-key limits in Redis): `start(done)` begins the work and `done(value)` may be called once from
// any thread; the value is posted to the waiting coroutine's executor. Returns nullopt when the
// bound passed first; a value that arrives after that goes to `on_late` (if any), on the executor.

#include <functional>
#include <memory>
#include <optional>

#include <boost/asio.hpp>

#include "core/clock.h"

namespace mec::net {

template <class T>
boost::asio::awaitable<std::optional<T>> BoundedWait(Duration bound, const std::function<void(std::function<void(T)>)>& start,
                                                     std::function<void(T)> on_late = nullptr) {
  namespace asio = boost::asio;
  struct Wait {
    explicit Wait(asio::any_io_executor ex) : timer(std::move(ex)) {}
    asio::steady_timer timer;
    std::optional<T> value;
    bool abandoned = false;
  };
  auto executor = co_await asio::this_coro::executor;
  auto w = std::make_shared<Wait>(executor);
  w->timer.expires_after(std::chrono::duration_cast<asio::steady_timer::duration>(bound));
  start([w, executor, on_late = std::move(on_late)](T v) {
    asio::post(executor, [w, v = std::move(v), on_late]() mutable {
      if (w->abandoned) {
        if (on_late) on_late(std::move(v));
        return;
      }
      w->value = std::move(v);
      w->timer.cancel();
    });
  });
  boost::system::error_code ec;
  if (!w->value) co_await w->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  if (!w->value) w->abandoned = true;
  co_return std::move(w->value);
}

}  // namespace mec::net
