#include "net/request_ids.h"

#include <cstdint>

namespace mec::net {
namespace {

bool LowerHex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool AllZeros(std::string_view s) { return s.find_first_not_of('0') == std::string_view::npos; }

// Hand-rolled: fmt::format cost several thousand instructions per request here. Two digits per
// byte of randomness, low nibble first (as one digit per nibble wrote them). `digits` is even.
std::string Hex(Rng& rng, int digits) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(static_cast<size_t>(digits), '0');
  uint64_t bits = 0;
  for (int i = 0; i + 1 < digits; i += 2) {
    if (i % 16 == 0) bits = rng.Next();
    out[static_cast<size_t>(i)] = kDigits[bits & 0xf];
    out[static_cast<size_t>(i) + 1] = kDigits[(bits >> 4) & 0xf];
    bits >>= 8;
  }
  if (AllZeros(out)) out.back() = '1';  // all zeros is invalid
  return out;
}

}  // namespace

bool ParseTraceparent(std::string_view v, std::string& trace_id, std::string& parent_id, std::string& flags) {
  // version "-" trace-id "-" parent-id "-" flags: 2 + 1 + 32 + 1 + 16 + 1 + 2 = 55 characters.
  if (v.size() < 55 || v[2] != '-' || v[35] != '-' || v[52] != '-') return false;
  const std::string_view version = v.substr(0, 2), trace = v.substr(3, 32), parent = v.substr(36, 16), fl = v.substr(53, 2);
  if (!LowerHex(version) || version == "ff" || !LowerHex(trace) || !LowerHex(parent) || !LowerHex(fl)) return false;
  if (AllZeros(trace) || AllZeros(parent)) return false;
  // Version 00 is exactly 55 characters; a later version may carry more after a '-'.
  if (v.size() > 55 && (version == "00" || v[55] != '-')) return false;
  trace_id = trace;
  parent_id = parent;
  flags = fl;
  return true;
}

bool AcceptableRequestId(std::string_view v) {
  if (v.empty() || v.size() > 128) return false;
  for (char c : v) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                    c == ':' || c == '/' || c == '+' || c == '=' || c == '@' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string RequestIds::Traceparent() const {
  std::string out;
  out.reserve(3 + trace_id.size() + 1 + span_id.size() + 1 + flags.size());
  out += "00-";
  out += trace_id;
  out += '-';
  out += span_id;
  out += '-';
  out += flags;
  return out;
}

RequestIds RequestIds::From(std::string_view x_request_id, std::string_view traceparent, std::string_view tracestate, Rng& rng) {
  RequestIds ids;
  if (ParseTraceparent(traceparent, ids.trace_id, ids.parent_id, ids.flags)) {
    if (tracestate.size() <= 512) ids.tracestate = tracestate;  // the spec's limit is 512 characters
  } else {
    ids.trace_id = Hex(rng, 32);
  }
  ids.span_id = Hex(rng, 16);
  ids.request_id = AcceptableRequestId(x_request_id) ? std::string(x_request_id) : ids.trace_id;
  return ids;
}

}  // namespace mec::net
