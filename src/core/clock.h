#pragma once
// Time is injected: routing, the executor, estimators and the tier model read a Clock, so the
// simulator and tests can drive them. Only system_clock.cc reads the operating system's clocks.

#include <chrono>
#include <cstdint>

namespace mec {

using Duration = std::chrono::nanoseconds;
// A point on a monotonic time line whose origin is the clock's own (process start, or 0 in a
// simulation). Only differences between TimePoints of one clock mean anything.
using TimePoint = std::chrono::time_point<std::chrono::steady_clock, Duration>;

inline constexpr double ToMillis(Duration d) { return std::chrono::duration<double, std::milli>(d).count(); }
inline constexpr double ToSeconds(Duration d) { return std::chrono::duration<double>(d).count(); }
inline constexpr Duration FromMillis(double ms) { return Duration(static_cast<int64_t>(ms * 1e6)); }
inline constexpr Duration FromSeconds(double s) { return Duration(static_cast<int64_t>(s * 1e9)); }

// Thread-safety: implementations must be safe to call from any thread.
class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic now.
  virtual TimePoint Now() const = 0;
  // Seconds since the Unix epoch, for `created` fields and logs only; never for durations.
  virtual int64_t UnixSeconds() const = 0;
  // Milliseconds since the Unix epoch, for what other processes must compare (replicas' reports
  // in Redis); never for durations within this process.
  virtual int64_t UnixMillis() const { return UnixSeconds() * 1000; }
};

// The real clock (steady + system). Its one instance is created by main and passed down.
class SystemClock final : public Clock {
 public:
  TimePoint Now() const override;
  int64_t UnixSeconds() const override;
  int64_t UnixMillis() const override;
};

// A clock that moves only when told to; for tests and the simulator's world. Not thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start = TimePoint{}) : now_(start) {}
  TimePoint Now() const override { return now_; }
  int64_t UnixSeconds() const override { return 1700000000 + std::chrono::duration_cast<std::chrono::seconds>(now_.time_since_epoch()).count(); }
  void Advance(Duration d) { now_ += d; }
  // REQUIRES: t >= Now() (time never goes backwards).
  void Set(TimePoint t) { now_ = t; }

 private:
  TimePoint now_;
};

}  // namespace mec
