#pragma once
// Stable sorting of candidate indices without std::stable_sort's temporary buffer (an allocation
// per call). For a strict weak order a stable sort's result is unique, so this orders exactly as
// std::stable_sort does. REQUIRES: `less` is a strict weak order (no NaN keys); a comparator that
// is not (adaptive's near-tie rule) must keep std::stable_sort.

#include <algorithm>
#include <iterator>

namespace mec {

template <typename It, typename Less>
void StableOrder(It first, It last, Less less) {
  if (last - first > 64) {  // insertion sort is quadratic; a decision has a few dozen candidates
    std::stable_sort(first, last, less);
    return;
  }
  for (It i = first + (first != last); i < last; ++i) {
    auto x = *i;
    It j = i;
    for (; j != first && less(x, *(j - 1)); --j) *j = *(j - 1);
    *j = x;
  }
}

}  // namespace mec
