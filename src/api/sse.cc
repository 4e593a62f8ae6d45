#include "api/sse.h"

namespace mec {

bool SseParser::Feed(std::string_view bytes, const OnData& on_data) {
  while (!bytes.empty()) {
    size_t nl = bytes.find('\n');
    if (nl == std::string_view::npos) {
      pending_.append(bytes);
      return pending_.size() + data_.size() <= max_event_bytes;
    }
    std::string_view line = bytes.substr(0, nl);
    bytes.remove_prefix(nl + 1);
    if (!line.empty() && line.back() == '\r' && pending_.empty()) line.remove_suffix(1);
    // The usual event, one "data:" line and its blank line whole in `bytes`: handed over from
    // where it is, not copied into data_ first.
    if (pending_.empty() && !has_data_ && line.starts_with("data:") && (bytes.starts_with("\n") || bytes.starts_with("\r\n"))) {
      std::string_view value = line.substr(5);
      if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      if (value.size() > max_event_bytes) return false;
      bytes.remove_prefix(bytes.front() == '\n' ? 1 : 2);
      on_data(value);
      continue;
    }
    if (!pending_.empty()) {
      pending_.append(line);
      std::string full = std::move(pending_);
      pending_.clear();
      if (!full.empty() && full.back() == '\r') full.pop_back();
      Line(full, on_data);
    } else {
      Line(line, on_data);  // its '\r' removed above
    }
    if (data_.size() > max_event_bytes) return false;
  }
  return true;
}

void SseParser::Line(std::string_view line, const OnData& on_data) {
  if (line.empty()) {  // end of event
    if (has_data_) on_data(data_);
    data_.clear();
    has_data_ = false;
    return;
  }
  if (line.front() == ':') return;  // comment
  size_t colon = line.find(':');
  std::string_view field = line.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (field != "data") return;
  if (has_data_) data_.push_back('\n');
  data_.append(value);
  has_data_ = true;
}

void AppendSseEvent(std::string& out, std::string_view payload) {
  out += "data: ";
  out += payload;
  out += "\n\n";
}

std::string SseErrorEvent(const ApiError& e) {
  std::string out;
  AppendSseEvent(out, ErrorJson(e));
  return out;
}

}  // namespace mec
