#pragma once
// Stable sorting and partitioning of candidate indices without the temporary buffer (an
// allocation per call) of std::stable_sort and std::stable_partition. For a strict weak order a
// stable sort's result is unique, so this orders exactly as std::stable_sort does. REQUIRES:
// `less` is a strict weak order (no NaN keys); a comparator that is not (adaptive's near-tie rule)
// must keep std::stable_sort.

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

// The same for candidate indices ordered by a key of their candidate (lower first): each key is
// computed once and the (key, index) pairs are sorted side by side, which keeps the inner loop
// on contiguous memory. REQUIRES: Key's operator< is a strict weak order.
template <typename It, typename KeyOf>
void StableOrderByKey(It first, It last, KeyOf key_of) {
  using Key = decltype(key_of(*first));
  struct Item {
    Key key;
    int id;
  };
  const auto n = last - first;
  if (n < 2) return;
  if (n > 64) {
    std::stable_sort(first, last, [&](int a, int b) { return key_of(a) < key_of(b); });
    return;
  }
  Item items[64];
  for (long k = 0; k < n; ++k) items[k] = {key_of(first[k]), first[k]};
  if (n <= 24) {
    // Plain insertion of the (key, index) pairs: for a couple of dozen it runs faster than the
    // search below, with fewer branches that mispredict (a decision over 3 x 10 backends: 1.89
    // against 1.95 us).
    for (long i = 1; i < n; ++i) {
      const Item x = items[i];
      long j = i;
      for (; j > 0 && x.key < items[j - 1].key; --j) items[j] = items[j - 1];
      items[j] = x;
    }
    for (long k = 0; k < n; ++k) first[k] = items[k].id;
    return;
  }
  // Binary insertion over positions into `items` (plain ints, so the shift is one memmove): each
  // item goes after the last one whose key is not greater (stable), found in log n comparisons.
  int pos[64];
  for (long k = 0; k < n; ++k) pos[k] = static_cast<int>(k);
  for (long i = 1; i < n; ++i) {
    const Key& key = items[i].key;
    if (!(key < items[pos[i - 1]].key)) continue;  // already in place (runs of equal keys)
    int* at = std::upper_bound(pos, pos + i, static_cast<int>(i), [&](int a, int b) { return items[a].key < items[b].key; });
    std::move_backward(at, pos + i, pos + i + 1);
    *at = static_cast<int>(i);
  }
  for (long k = 0; k < n; ++k) first[k] = items[pos[k]].id;
}

// std::stable_partition without its temporary buffer for up to 64 items (an allocation per call):
// those for which pred holds first, each part in its order. Returns the start of the second part.
template <typename It, typename Pred>
It StablePartition(It first, It last, Pred pred) {
  if (last - first > 64) return std::stable_partition(first, last, pred);
  typename std::iterator_traits<It>::value_type rest[64];
  long num_rest = 0;
  It out = first;  // never ahead of `it`: written in place
  for (It it = first; it != last; ++it) {
    if (pred(*it)) *out++ = *it;
    else rest[num_rest++] = *it;
  }
  std::copy(rest, rest + num_rest, out);
  return out;
}

}  // namespace mec
