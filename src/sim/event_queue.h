#pragma once
// The simulator's event list (ns-3's Scheduler): events ordered by time, ties broken by insertion
// order, so the same pushes always pop in the same order (same seed, same output, byte for byte).
//
// `T` is a small value (the payload of one event). Pop() never goes back in time: pushing an
// event earlier than the last popped one is a caller error (REQUIRES below) and is clamped to
// that time, so the clock it drives stays monotonic.
// Thread-safety: none; one simulation owns one queue.

#include <cstdint>
#include <queue>
#include <vector>

#include "core/clock.h"

namespace mec::sim {

template <typename T>
class EventQueue {
 public:
  struct Event {
    TimePoint at{};
    uint64_t seq = 0;  // insertion order: the tie-breaker
    T payload{};
  };

  // Schedules `payload` at `at`. REQUIRES: at >= now() (an earlier time is clamped to now()).
  // Returns the event's sequence number.
  uint64_t Push(TimePoint at, T payload) {
    if (at < now_) at = now_;
    heap_.push(Event{at, next_seq_, std::move(payload)});
    return next_seq_++;
  }
  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  // The time of the next event. REQUIRES: !empty().
  TimePoint NextTime() const { return heap_.top().at; }
  // Removes and returns the earliest event (lowest seq among equal times); now() becomes its time.
  // REQUIRES: !empty().
  Event Pop() {
    Event e = heap_.top();
    heap_.pop();
    now_ = e.at;
    return e;
  }
  // The time of the last popped event (the simulation's present).
  TimePoint now() const { return now_; }
  uint64_t pushed() const { return next_seq_; }

 private:
  struct Later {
    bool operator()(const Event& a, const Event& b) const { return a.at != b.at ? a.at > b.at : a.seq > b.seq; }
  };
  std::priority_queue<Event, std::vector<Event>, Later> heap_;
  uint64_t next_seq_ = 0;
  TimePoint now_{};
};

}  // namespace mec::sim
