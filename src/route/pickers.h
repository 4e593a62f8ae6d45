#pragma once
// The picker plugins (route/plugin.h): each orders the surviving candidates into the chain.
//
//   max-score    highest weighted score first; equal scores by the scorers' keys, in the
//                profile's order (Scorer::Key), then pool order (a stable sort)
//   round-robin  pool order rotated by one more place on every decision (a per-profile counter)
//   random       a uniform permutation, drawn from RouteEnv::rng (Fisher-Yates from the back)
//   adaptive     ours, route/adaptive_picker.h: meet the deadline and the minimum quality at the
//                lowest cost, else degrade in a documented order; writes its own reason
//
// Only max-score reads the scores; the others ignore them.

#include <memory>
#include <string_view>

#include "route/plugin.h"
#include "route/policy_options.h"

namespace mec {

// nullptr for a name not in kRoutingPickerNames (config/options.h).
std::unique_ptr<Picker> MakePicker(std::string_view name, const PolicyOptions& o);

}  // namespace mec
