#include "state/state_metrics.h"

#include <fmt/format.h>

#include "core/json_writer.h"

namespace mec {
namespace {

void Family(std::string& out, const char* name, const char* type, const char* help) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void Sample(std::string& out, const char* name, const char* label, const char* value, double x) {
  if (label) fmt::format_to(std::back_inserter(out), "{}{{{}=\"{}\"}} {}\n", name, label, value, x);
  else fmt::format_to(std::back_inserter(out), "{} {}\n", name, x);
}

}  // namespace

std::string StateMetricsText(const ReplicaSync* sync, const SharedCache* cache) {
  std::string out;
  if (!sync && !cache) return out;
  const auto s = sync ? sync->status() : ReplicaSync::Status{};
  const auto c = cache ? cache->stats() : SharedCache::Stats{};
  Family(out, "mecrouter_shared_state_up", "gauge", "1 while this replica reaches Redis, 0 while it serves on local state");
  if (sync) Sample(out, "mecrouter_shared_state_up", "channel", "sync", s.connected ? 1 : 0);
  if (cache) Sample(out, "mecrouter_shared_state_up", "channel", "cache", c.connected ? 1 : 0);
  Family(out, "mecrouter_shared_state_errors_total", "counter", "Failed exchanges with Redis");
  if (sync) Sample(out, "mecrouter_shared_state_errors_total", "channel", "sync", static_cast<double>(s.errors));
  if (cache) Sample(out, "mecrouter_shared_state_errors_total", "channel", "cache", static_cast<double>(c.errors));
  if (sync) {
    Family(out, "mecrouter_shared_state_reports_total", "counter", "Latency reports this replica sent, and other replicas' it applied");
    Sample(out, "mecrouter_shared_state_reports_total", "direction", "sent", static_cast<double>(s.reports_sent));
    Sample(out, "mecrouter_shared_state_reports_total", "direction", "applied", static_cast<double>(s.reports_applied));
    Family(out, "mecrouter_shared_state_ejections_total", "counter", "Ejections this replica shared, and other replicas' it applied");
    Sample(out, "mecrouter_shared_state_ejections_total", "direction", "sent", static_cast<double>(s.ejections_sent));
    Sample(out, "mecrouter_shared_state_ejections_total", "direction", "applied", static_cast<double>(s.ejections_applied));
  }
  if (cache) {
    Family(out, "mecrouter_shared_cache_lookups_total", "counter", "Lookups in the replicas' shared response cache (after a local miss)");
    Sample(out, "mecrouter_shared_cache_lookups_total", "result", "hit", static_cast<double>(c.hits));
    Sample(out, "mecrouter_shared_cache_lookups_total", "result", "refused", static_cast<double>(c.dropped_lookups));
    Sample(out, "mecrouter_shared_cache_lookups_total", "result", "miss",
           static_cast<double>(c.lookups - c.hits - c.dropped_lookups));
    Family(out, "mecrouter_shared_cache_stores_total", "counter", "Answers written to the replicas' shared response cache");
    Sample(out, "mecrouter_shared_cache_stores_total", nullptr, nullptr, static_cast<double>(c.stores));
  }
  return out;
}

std::string StateJson(const ReplicaSync* sync, const SharedCache* cache) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  if (sync) {
    const auto s = sync->status();
    w.Field("redis", s.connected ? "up" : "down")
        .Field("replica", sync->id())
        .Field("reports_sent", s.reports_sent)
        .Field("reports_applied", s.reports_applied)
        .Field("ejections_sent", s.ejections_sent)
        .Field("ejections_applied", s.ejections_applied)
        .Field("errors", s.errors)
        .Field("last_error", s.last_error);
  } else {
    w.Field("redis", "off");
  }
  w.Key("cache");
  if (cache) {
    const auto c = cache->stats();
    w.BeginObject()
        .Field("redis", c.connected ? "up" : "down")
        .Field("lookups", c.lookups)
        .Field("hits", c.hits)
        .Field("refused", c.dropped_lookups)
        .Field("stores", c.stores)
        .Field("dropped_stores", c.dropped - c.dropped_lookups)
        .Field("errors", c.errors)
        .EndObject();
  } else {
    w.Null();
  }
  w.EndObject();
  return out;
}

}  // namespace mec
