#pragma once
// A connection's deadline: one timer, armed lazily. Arm() moves the deadline and starts a wait
// only when none is pending that fires before it; Disarm() only clears the flag. A wait that fires
// early (the deadline moved on) waits again for the rest; one that fires past an armed deadline
// calls the owner's OnDeadline(). So a keep-alive request costs no timer operation in the common
// case, where an earlier, longer wait is still pending. Used by the server's connections
// (net/http_server.cc) and the upstream's pooled ones (net/upstream_client.cc).
//
// A pending wait keeps its owner alive (Owner derives from enable_shared_from_this); Cancel()
// ends it at once. Not thread-safe: the owner's thread only.

#include <algorithm>
#include <memory>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/clock.h"

namespace mec::net {

class LazyDeadline {
 public:
  LazyDeadline(const boost::asio::any_io_executor& ex, const Clock& clock) : timer_(ex), clock_(clock) {}

  // REQUIRES: `now` is the clock's reading the caller made to compute `at`.
  template <typename Owner>
  void Arm(Owner* owner, TimePoint at, TimePoint now) {
    armed_ = true;
    deadline_ = at;
    if (waiting_ && wait_until_ <= at) return;  // that wait fires first and re-checks
    Wait(owner, now);
  }
  void Disarm() { armed_ = false; }
  void Cancel() { timer_.cancel(); }  // the owner closes: a pending wait ends and lets go of it
  TimePoint deadline() const { return deadline_; }

 private:
  // Out of line: inlined into the coroutines that arm deadlines, its temporaries grew their frames
  // past the sizes Asio's frame cache holds (~350 instructions a request more in allocation).
  template <typename Owner>
  [[gnu::noinline]] void Wait(Owner* owner, TimePoint now) {
    waiting_ = true;
    wait_until_ = deadline_;
    timer_.expires_after(std::max(Duration{0}, deadline_ - now));  // a pending wait ends with operation_aborted
    timer_.async_wait([this, keep = owner->shared_from_this()](const boost::system::error_code& ec) {
      if (ec) return;  // replaced by a nearer deadline, or cancelled
      waiting_ = false;
      if (!armed_) return;
      const TimePoint t = clock_.Now();
      if (t < deadline_) return Wait(keep.get(), t);
      armed_ = false;
      keep->OnDeadline();
    });
  }

  boost::asio::steady_timer timer_;
  const Clock& clock_;
  TimePoint deadline_{};    // of the armed phase
  TimePoint wait_until_{};  // when the pending wait fires
  bool armed_ = false;
  bool waiting_ = false;    // a wait on timer_ is pending
};

}  // namespace mec::net
