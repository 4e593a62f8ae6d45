// `mecrouter keys [--db FILE | --config FILE] create|list|show|revoke|rotate|audit`: the API keys
// database (auth.keys_db; docs/security.md), edited in place. A running gateway on the same file
// picks changes up within auth.reload_ms (250 ms by default); replicas on other hosts get them
// only through a replica's admin API (POST /admin/keys ...), which shares them through Redis.

#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "auth/key_store.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "config/loader.h"
#include "core/clock.h"

namespace mec::cli {
namespace {

constexpr const char* kKeysUsage =
    "usage: mecrouter keys [--db FILE | --config FILE] COMMAND\n"
    "  create --name NAME [--budget-usd X --budget-period 1h|1d|1w|1mo] [--rpm N] [--tpm N] [--max-parallel N]\n"
    "         [--tiers device,edge,cloud] [--privacy any|edge|device] [--models M,...] [--expires YYYY-MM-DD]\n"
    "                  a new key; printed once, alone on the last line\n"
    "  list            every key: name, prefix, limits, state\n"
    "  show NAME       one key\n"
    "  revoke NAME     the key stops working (gateways on this file: within auth.reload_ms)\n"
    "  rotate NAME     a new key for NAME, same limits; the old one stops working\n"
    "  audit [-n N]    the newest N changes (default 20): when, who, what\n"
    "  --db FILE       the keys database (default: $MECROUTER_KEYS_DB, else keys.db)\n"
    "  --config FILE   take the database from the configuration's auth.keys_db\n";

int Fail(const std::string& msg, int code = 1) {
  std::fprintf(stderr, "mecrouter keys: %s\n", msg.c_str());
  return code;
}

std::string Who() {
  const char* user = std::getenv("USER");
  if (!user || !*user) {
    if (const passwd* pw = getpwuid(getuid())) user = pw->pw_name;
  }
  return std::string("cli:") + (user && *user ? user : "unknown");
}

int64_t Count(const Flags& f, const char* name, bool& bad) {
  auto v = f.Get(name);
  if (!v) return 0;
  char* end = nullptr;
  const long long n = std::strtoll(v->c_str(), &end, 10);
  if (v->empty() || *end || n < 0) bad = true;
  return n;
}

void PrintRecord(const KeyRecord& r) {
  std::printf("%-20s mk-%s…  %-8s %s\n", r.name.c_str(), r.id.substr(0, 8).c_str(), r.revoked ? "revoked" : "active",
              DescribeKey(r).c_str());
}

}  // namespace

int RunKeys(int argc, char** argv) {
  Flags flags(argc, argv,
              {"db", "config", "name", "budget-usd", "budget-period", "rpm", "tpm", "max-parallel", "tiers", "privacy", "models",
               "expires", "n"});
  const auto& pos = flags.positional();
  if (!flags.ok() || pos.empty() || flags.Has("help")) {
    if (!flags.ok()) std::fprintf(stderr, "mecrouter keys: %s\n", flags.error().c_str());
    std::fputs(kKeysUsage, stderr);
    return flags.Has("help") ? 0 : 2;
  }
  std::string db = flags.Get("db", "");
  if (db.empty() && flags.Get("config")) {
    auto o = LoadOptionsFromFile(*flags.Get("config"));
    if (!o.ok()) return Fail(o.status().message());
    if (o->auth.keys_db.empty()) return Fail(*flags.Get("config") + " has no auth.keys_db");
    db = o->auth.keys_db;
  }
  if (db.empty()) db = std::getenv("MECROUTER_KEYS_DB") && *std::getenv("MECROUTER_KEYS_DB") ? std::getenv("MECROUTER_KEYS_DB") : "keys.db";
  auto store_or = KeyStore::Open(db);
  if (!store_or.ok()) return Fail(store_or.status().message());
  KeyStore& store = **store_or;
  SystemClock clock;
  const std::string& cmd = pos[0];
  const std::string name = pos.size() > 1 ? pos[1] : flags.Get("name", "");

  if (cmd == "create") {
    KeyRecord base;
    base.name = flags.Get("name", pos.size() > 1 ? pos[1] : "");
    if (base.name.empty()) return Fail("create needs --name NAME", 2);
    bool bad = false;
    base.limits.rpm = Count(flags, "rpm", bad);
    base.limits.tpm = Count(flags, "tpm", bad);
    base.limits.max_parallel = Count(flags, "max-parallel", bad);
    if (bad) return Fail("--rpm, --tpm and --max-parallel take a whole number >= 0", 2);
    if (auto b = flags.Get("budget-usd")) {
      char* end = nullptr;
      base.limits.budget_usd = std::strtod(b->c_str(), &end);
      if (b->empty() || *end || !(base.limits.budget_usd >= 0)) return Fail("--budget-usd takes a number >= 0", 2);
    }
    auto period = ParseBudgetPeriod(flags.Get("budget-period", ""));
    if (!period) return Fail("--budget-period is one of 1h, 1d, 1w, 1mo", 2);
    base.limits.period = *period;
    if (base.limits.budget_usd > 0 && *period == BudgetPeriod::kNone) return Fail("--budget-usd needs --budget-period (1h, 1d, 1w, 1mo)", 2);
    if (auto t = flags.Get("tiers")) {
      auto bits = ParseTierList(*t);
      if (!bits.ok()) return Fail("--tiers: " + bits.status().message(), 2);
      base.tiers = *bits;
    }
    if (auto p = flags.Get("privacy")) {
      auto pr = ParsePrivacyName(*p);
      if (!pr) return Fail("--privacy is one of any, edge, device", 2);
      base.privacy = *pr;
    }
    if (auto m = flags.Get("models")) {
      std::string_view s = *m;
      while (!s.empty()) {
        const size_t c = s.find(',');
        if (c) base.models.emplace_back(s.substr(0, c));
        if (c == std::string_view::npos) break;
        s.remove_prefix(c + 1);
      }
    }
    if (auto e = flags.Get("expires")) {
      auto at = ParseExpiry(*e);
      if (!at.ok()) return Fail("--expires: " + at.status().message(), 2);
      base.expires_unix = *at;
    }
    auto k = store.Create(base, Who(), clock.UnixMillis());
    if (!k.ok()) return Fail(k.status().message());
    std::printf("created key '%s' in %s: %s\n", k->record.name.c_str(), db.c_str(), DescribeKey(k->record).c_str());
    std::printf("it is shown once; store it now (the database keeps only a salted hash):\n");
    std::printf("%s\n", k->key.c_str());
    return 0;
  }
  if (cmd == "list") {
    auto all = store.List();
    if (!all.ok()) return Fail(all.status().message());
    if (all->empty()) std::printf("no keys in %s\n", db.c_str());
    for (const auto& r : *all) PrintRecord(r);
    return 0;
  }
  if (cmd == "show" || cmd == "revoke" || cmd == "rotate") {
    if (name.empty()) return Fail(cmd + " needs a key's NAME", 2);
    if (cmd == "revoke") {
      if (Status s = store.Revoke(name, Who(), clock.UnixMillis()); !s.ok()) return Fail(s.message());
      std::printf("revoked key '%s'\n", name.c_str());
      return 0;
    }
    if (cmd == "rotate") {
      auto k = store.Rotate(name, Who(), clock.UnixMillis());
      if (!k.ok()) return Fail(k.status().message());
      std::printf("rotated key '%s'; the old key no longer works. The new key, shown once:\n%s\n", name.c_str(), k->key.c_str());
      return 0;
    }
    auto r = store.Find(name);
    if (!r.ok()) return Fail(r.status().message());
    PrintRecord(*r);
    return 0;
  }
  if (cmd == "audit") {
    const int n = std::atoi(flags.Get("n", "20").c_str());
    auto entries = store.Audit(n > 0 ? n : 20);
    if (!entries.ok()) return Fail(entries.status().message());
    for (auto it = entries->rbegin(); it != entries->rend(); ++it)
      std::printf("%lld  %-16s %-7s %-20s %s\n", static_cast<long long>(it->at_unix), it->who.c_str(), it->action.c_str(), it->name.c_str(),
                  it->detail.c_str());
    return 0;
  }
  std::fputs(kKeysUsage, stderr);
  return 2;
}

}  // namespace mec::cli
