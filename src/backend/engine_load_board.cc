#include "backend/engine_load_board.h"

namespace mec {

EngineLoadBoard::EngineLoadBoard(size_t backends) : slots_(backends) {}

void EngineLoadBoard::Set(size_t b, EngineLoad load) {
  auto p = std::make_shared<const EngineLoad>(std::move(load));
  std::lock_guard lock(slots_[b].mu);
  slots_[b].load.swap(p);
}  // the previous reading is freed here, outside the lock

std::shared_ptr<const EngineLoad> EngineLoadBoard::Latest(size_t b) const {
  std::lock_guard lock(slots_[b].mu);
  return slots_[b].load;
}

}  // namespace mec
