#include <gtest/gtest.h>

#include "config/loader.h"

namespace mec {
namespace {

TEST(Config, ParsesBackendsWithDefaults) {
  auto o = LoadOptionsFromString(R"(
server:
  listen: 127.0.0.1:9000
  max_body_bytes: 1048576
routing:
  auto_order: [device, cloud]
backends:
  - name: local
    tier: device
    url: http://127.0.0.1:11434/v1/
    models: [llama3.2:1b]
  - name: openai
    tier: cloud
    url: https://api.openai.com/v1
    models: gpt-4o
    api_key_env: OPENAI_API_KEY
    capabilities: [tools, json_schema]
    price: {input_per_1m: 2.5, output_per_1m: 10}
    timeouts: {first_byte_ms: 5000}
)", "t.yaml");
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->server.listen, "127.0.0.1:9000");
  EXPECT_EQ(o->server.max_body_bytes, 1048576);
  ASSERT_EQ(o->backends.size(), 2u);
  EXPECT_EQ(o->backends[0].url, "http://127.0.0.1:11434/v1");
  EXPECT_EQ(o->backends[0].tier, Tier::kDevice);
  EXPECT_EQ(o->backends[1].models[0], "gpt-4o");
  EXPECT_TRUE(o->backends[1].tools);
  EXPECT_EQ(o->backends[1].price.output_per_1m, 10);
  EXPECT_EQ(o->backends[1].timeouts.first_byte_ms, 5000);
  EXPECT_EQ(o->backends[1].timeouts.connect_ms, TimeoutOptions{}.connect_ms);
  EXPECT_EQ(o->routing.auto_order.size(), 2u);
  EXPECT_EQ(o->routing.estimate_memo, 4096);  // the default
  EXPECT_NE(DescribeOptions(*o).find("openai [cloud]"), std::string::npos);
}

void ExpectError(const std::string& yaml, const std::string& needle) {
  auto o = LoadOptionsFromString(yaml, "c.yaml");
  ASSERT_FALSE(o.ok()) << yaml;
  EXPECT_NE(o.status().message().find(needle), std::string::npos) << o.status().message();
}

TEST(Config, EstimateMemoSizeIsReadAndBounded) {
  const std::string backend = "backends:\n  - {name: a, tier: edge, url: 'http://x/v1', models: [m]}\n";
  auto o = LoadOptionsFromString("routing:\n  estimate_memo: 0\n" + backend, "c.yaml");
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->routing.estimate_memo, 0);
  ExpectError("routing:\n  estimate_memo: -1\n" + backend, "c.yaml:2: routing.estimate_memo: must be between 0 and");
  ExpectError("routing:\n  estimate_memo: many\n" + backend, "routing.estimate_memo: expected a number");
}

TEST(Config, SpreadIsReadAndBounded) {
  const std::string backend = "backends:\n  - {name: a, tier: edge, url: 'http://x/v1', models: [m]}\n";
  auto d = LoadOptionsFromString(backend, "c.yaml");
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_DOUBLE_EQ(d->routing.spread, 0.10);
  auto o = LoadOptionsFromString("routing:\n  spread: 0\n" + backend, "c.yaml");
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->routing.spread, 0);
  ExpectError("routing:\n  spread: 1.5\n" + backend, "c.yaml:2: routing.spread: must be between 0 and 1");
}

TEST(Config, PrefixAffinityKeysAreReadAndBounded) {
  const std::string backend = "backends:\n  - {name: a, tier: edge, url: 'http://x/v1', models: [m]}\n";
  auto d = LoadOptionsFromString(backend, "c.yaml");
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->routing.prefix_max_blocks, 256);
  EXPECT_EQ(d->routing.prefix_capacity_blocks, 31250);
  auto o = LoadOptionsFromString("routing:\n  prefix_max_blocks: 0\n  prefix_capacity_blocks: 4096\n" + backend, "c.yaml");
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->routing.prefix_max_blocks, 0);
  EXPECT_EQ(o->routing.prefix_capacity_blocks, 4096);
  ExpectError("routing:\n  prefix_max_blocks: -1\n" + backend, "c.yaml:2: routing.prefix_max_blocks: must be between 0 and");
  ExpectError("routing:\n  prefix_capacity_blocks: 0\n" + backend, "routing.prefix_capacity_blocks: must be between 1 and");
}

TEST(Config, ErrorsNameKeyAndLine) {
  ExpectError("backends:\n  - name: a\n    tier: moon\n    url: http://x/v1\n    models: [m]\n", "c.yaml:3: backends[0].tier");
  ExpectError("backends:\n  - name: a\n    tier: edge\n    url: http://x/v1\n    modles: [m]\n", "c.yaml:5: backends[0].modles: unknown key");
  ExpectError("server:\n  max_body_bytes: lots\nbackends: []\n", "c.yaml:2: server.max_body_bytes: expected a number");
  ExpectError("backends:\n  - name: a\n    tier: edge\n    url: ftp://x\n    models: [m]\n", "backends[0].url");
  ExpectError("backends:\n  - {name: a, tier: edge, url: 'http://x', models: [m]}\n  - {name: a, tier: cloud, url: 'http://y', models: [m]}\n", "duplicate backend name");
  ExpectError("backends: [\n", "YAML syntax error");
  ExpectError("server: {}\n", "at least one backend");
}

TEST(Config, ContinueCapabilityAndStyleFollowTheEngine) {
  auto o = LoadOptionsFromString(R"(
backends:
  - {name: v, tier: edge, url: 'http://e/v1', models: [m], engine: vllm, capabilities: [continue]}
  - {name: l, tier: device, url: 'http://d/v1', models: [m], engine: llamacpp, capabilities: [continue]}
  - {name: c, tier: cloud, url: 'http://c/v1', models: [m], capabilities: [continue], continue_style: prefix}
  - {name: n, tier: cloud, url: 'http://n/v1', models: [m]}
)", "t.yaml");
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_TRUE(o->backends[0].can_continue);
  EXPECT_EQ(o->backends[0].continue_style, ContinueStyle::kContinueFinalMessage);
  EXPECT_EQ(o->backends[1].continue_style, ContinueStyle::kPrefill);
  EXPECT_EQ(o->backends[2].continue_style, ContinueStyle::kPrefix);
  EXPECT_FALSE(o->backends[3].can_continue);
  EXPECT_NE(DescribeOptions(*o).find("continue (prefill)"), std::string::npos);
  ExpectError("backends:\n  - {name: a, tier: edge, url: 'http://x/v1', models: [m], continue_style: resume}\n", "continue_style");
  ExpectError("backends:\n  - {name: a, tier: edge, url: 'http://x/v1', models: [m], capabilities: [resume]}\n", "unknown capability");
}

TEST(Config, BackendExpectHealthCheckOutlier) {
  auto o = LoadOptionsFromString(R"(
backends:
  - name: phone
    tier: device
    url: http://127.0.0.1:11434/v1
    models: [m]
    quality_ratio: 0.914
  - name: mec
    tier: edge
    url: http://10.0.0.2:8000/v1
    models: [m]
    expect: {ttft_ms: 150, rtt_ms: 8}
    health_check: {path: /health, interval_ms: 2000, jitter: 0.1, timeout_ms: 500, healthy_threshold: 1, unhealthy_threshold: 2}
    outlier: {consecutive_local_failures: 2, consecutive_upstream_failures: 0, base_ejection_ms: 5000, max_ejection_ms: 60000, uneject_on_health_check: false}
  - name: api
    tier: cloud
    url: https://api.example.com/v1
    models: [m]
    health_check: {enabled: false}
)", "t.yaml");
  ASSERT_TRUE(o.ok()) << o.status().message();
  const auto& phone = o->backends[0];
  EXPECT_EQ(phone.quality_ratio, 0.914);
  EXPECT_FALSE(o->backends[1].quality_ratio.has_value());  // unset: the tier's default
  EXPECT_EQ(phone.expect.ttft_ms, 300);  // tier defaults
  EXPECT_EQ(phone.expect.tokens_per_s, 50);
  EXPECT_EQ(phone.expect.rtt_ms, 1);
  EXPECT_EQ(phone.expect.half_life_ms, 5000);
  EXPECT_TRUE(phone.health_check.enabled);
  EXPECT_EQ(phone.health_check.path, "/models");
  EXPECT_EQ(phone.health_check.interval_ms, 5000);
  EXPECT_EQ(phone.outlier.consecutive_local_failures, 3);
  EXPECT_EQ(phone.outlier.consecutive_upstream_failures, 5);
  EXPECT_EQ(phone.outlier.base_ejection_ms, 10000);
  EXPECT_EQ(phone.outlier.max_ejection_ms, 300000);
  const auto& mec = o->backends[1];
  EXPECT_EQ(mec.expect.ttft_ms, 150);
  EXPECT_EQ(mec.expect.tokens_per_s, 70);  // edge default for the key left out
  EXPECT_EQ(mec.expect.rtt_ms, 8);
  EXPECT_EQ(mec.health_check.path, "/health");
  EXPECT_EQ(mec.health_check.interval_ms, 2000);
  EXPECT_DOUBLE_EQ(mec.health_check.jitter, 0.1);
  EXPECT_EQ(mec.health_check.timeout_ms, 500);
  EXPECT_EQ(mec.health_check.healthy_threshold, 1);
  EXPECT_EQ(mec.health_check.unhealthy_threshold, 2);
  EXPECT_EQ(mec.outlier.consecutive_local_failures, 2);
  EXPECT_EQ(mec.outlier.consecutive_upstream_failures, 0);
  EXPECT_EQ(mec.outlier.base_ejection_ms, 5000);
  EXPECT_EQ(mec.outlier.max_ejection_ms, 60000);
  EXPECT_FALSE(mec.outlier.uneject_on_health_check);
  EXPECT_TRUE(phone.outlier.uneject_on_health_check);  // the default
  EXPECT_FALSE(o->backends[2].health_check.enabled);
  EXPECT_EQ(o->backends[2].expect.ttft_ms, 600);
  EXPECT_EQ(o->backends[2].expect.tokens_per_s, 100);
  EXPECT_EQ(o->backends[2].expect.rtt_ms, 100);
  const std::string d = DescribeOptions(*o);
  EXPECT_NE(d.find("GET /health every 2000 ms"), std::string::npos) << d;
  EXPECT_NE(d.find("health check: off"), std::string::npos) << d;
}

TEST(Config, BackendResourceKeyErrors) {
  const std::string head = "backends:\n  - name: a\n    tier: edge\n    url: http://x/v1\n    models: [m]\n";
  ExpectError(head + "    expect: {ttft_ms: -5}\n", "c.yaml:6: backends[0].expect.ttft_ms: must be between");
  ExpectError(head + "    quality_ratio: 1.5\n", "c.yaml:6: backends[0].quality_ratio: must be between");
  ExpectError(head + "    expect: {tokens: 5}\n", "c.yaml:6: backends[0].expect.tokens: unknown key");
  ExpectError(head + "    health_check:\n      path: models\n", "c.yaml:7: backends[0].health_check.path: expected a path");
  ExpectError(head + "    health_check: {jitter: 2}\n", "backends[0].health_check.jitter: must be between");
  ExpectError(head + "    health_check: {enabled: maybe}\n", "backends[0].health_check.enabled: expected true or false");
  ExpectError(head + "    health_check: {interval_ms: 500, timeout_ms: 1000}\n", "backends[0].health_check.timeout_ms: must not exceed");
  ExpectError(head + "    outlier:\n      base_ejection_ms: 5000\n      max_ejection_ms: 1000\n",
              "c.yaml:8: backends[0].outlier.max_ejection_ms: must be at least");
  ExpectError(head + "    outlier: {consecutive_local_failures: lots}\n",
              "backends[0].outlier.consecutive_local_failures: expected a number");
}

TEST(Config, SharedStateRedis) {
  const std::string backends = "backends:\n  - {name: a, tier: edge, url: 'http://x/v1', models: [m]}\n";
  auto d = LoadOptionsFromString(backends, "t.yaml");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->state.redis_host, "");
  auto o = LoadOptionsFromString("state: redis://10.0.0.5:6380\n" + backends, "t.yaml");
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->state.redis_host, "10.0.0.5");
  EXPECT_EQ(o->state.redis_port, 6380);
  auto m = LoadOptionsFromString("state: {url: 'redis://cache.local', sync_ms: 250, stale_ms: 5000}\n" + backends, "t.yaml");
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->state.redis_host, "cache.local");
  EXPECT_EQ(m->state.redis_port, 6379);
  EXPECT_EQ(m->state.sync_ms, 250);
  EXPECT_EQ(m->state.stale_ms, 5000);
  EXPECT_TRUE(m->state.share_ejections);
  EXPECT_TRUE(m->state.share_cache);
  EXPECT_EQ(m->state.cache_lookup_ms, 20);
  auto k = LoadOptionsFromString("state: {url: 'redis://h:1', ejections: false, cache: false, cache_lookup_ms: 5}\n" + backends, "t.yaml");
  ASSERT_TRUE(k.ok()) << k.status().message();
  EXPECT_FALSE(k->state.share_ejections);
  EXPECT_FALSE(k->state.share_cache);
  EXPECT_EQ(k->state.cache_lookup_ms, 5);
  ExpectError("state: {url: 'redis://h:1', cache_lookup_ms: 0}\n" + backends, "cache_lookup_ms");
  ExpectError("state: http://x:1\n" + backends, "c.yaml:1: state: expected redis://HOST:PORT");
  ExpectError("state: redis://x:99999\n" + backends, "c.yaml:1: state: bad port");
}

// rediss:// (TLS), the CA bundle, verification off, and a password that never shows.
TEST(Config, SharedStateRedisTlsAndPassword) {
  const std::string backends = "backends:\n  - {name: a, tier: edge, url: 'http://x/v1', models: [m]}\n";
  auto t = LoadOptionsFromString("state: 'rediss://:s3cr%40t:x@master.abc.cache.amazonaws.com'\n" + backends, "t.yaml");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_TRUE(t->state.redis_tls);
  EXPECT_EQ(t->state.redis_host, "master.abc.cache.amazonaws.com");
  EXPECT_EQ(t->state.redis_port, 6379);
  EXPECT_EQ(t->state.redis_user, "");
  EXPECT_EQ(t->state.redis_password, "s3cr@t:x");
  EXPECT_TRUE(t->state.tls_verify);
  EXPECT_EQ(t->state.tls_ca_file, "");
  const std::string d = DescribeOptions(*t);
  EXPECT_NE(d.find("state: rediss://:***@master.abc.cache.amazonaws.com:6379 (TLS, verified against the system CA store; AUTH)"),
            std::string::npos) << d;
  EXPECT_EQ(d.find("s3cr"), std::string::npos) << d;
  EXPECT_EQ(MaskedRedisUrl(t->state), "rediss://:***@master.abc.cache.amazonaws.com:6379");

  auto m = LoadOptionsFromString(
      "state: {url: 'rediss://app:pw@10.0.0.7:6380/', tls_ca_file: /etc/mec/ca.pem, tls_verify: true}\n" + backends, "t.yaml");
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->state.redis_host, "10.0.0.7");
  EXPECT_EQ(m->state.redis_port, 6380);
  EXPECT_EQ(m->state.redis_user, "app");
  EXPECT_EQ(m->state.redis_password, "pw");
  EXPECT_EQ(m->state.tls_ca_file, "/etc/mec/ca.pem");
  EXPECT_NE(DescribeOptions(*m).find("state: rediss://app:***@10.0.0.7:6380 (TLS, verified against the system CA store and /etc/mec/ca.pem; AUTH)"),
            std::string::npos) << DescribeOptions(*m);

  auto off = LoadOptionsFromString("state: {tls_verify: false, url: 'rediss://h'}\n" + backends, "t.yaml");
  ASSERT_TRUE(off.ok()) << off.status().message();
  EXPECT_FALSE(off->state.tls_verify);
  EXPECT_NE(DescribeOptions(*off).find("state: rediss://h:6379 (TLS NOT VERIFIED"), std::string::npos) << DescribeOptions(*off);

  // A password with plain redis:// is sent with AUTH as well; plaintext is said.
  auto p = LoadOptionsFromString("state: redis://:pw@h:7000\n" + backends, "t.yaml");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_FALSE(p->state.redis_tls);
  EXPECT_EQ(p->state.redis_password, "pw");
  EXPECT_NE(DescribeOptions(*p).find("state: redis://:***@h:7000 (plaintext; AUTH)"), std::string::npos) << DescribeOptions(*p);
  auto none = LoadOptionsFromString(backends, "t.yaml");
  EXPECT_NE(DescribeOptions(*none).find("state: off"), std::string::npos);

  ExpectError("state: {url: 'redis://h', tls_ca_file: ca.pem}\n" + backends, "c.yaml:1: state: tls_ca_file and tls_verify need a rediss:// url");
  ExpectError("state: {url: 'redis://h', tls_verify: false}\n" + backends, "need a rediss:// url");
  ExpectError("state: {url: 'rediss://h', tls_verify: maybe}\n" + backends, "state.tls_verify: expected true or false");
  ExpectError("state: rediss://pw@h\n" + backends, "write :PASSWORD@HOST");
  ExpectError("state: 'rediss://:@h'\n" + backends, "empty password");
  ExpectError("state: 'rediss://:p%zz@h'\n" + backends, "bad %-escape");
  // An error after the password never repeats it.
  auto bad = LoadOptionsFromString("state: 'rediss://:hunter2@h:99999'\n" + backends, "c.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bad port in 'h:99999'"), std::string::npos) << bad.status().message();
  EXPECT_EQ(bad.status().message().find("hunter2"), std::string::npos) << bad.status().message();
}

TEST(Config, CacheDefaultsAndKeys) {
  const std::string backends = "backends:\n  - {name: a, tier: edge, url: 'http://x/v1', models: [m]}\n";
  auto d = LoadOptionsFromString(backends, "t.yaml");
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_TRUE(d->cache.enabled);
  EXPECT_EQ(d->cache.max_bytes, 64 << 20);
  EXPECT_EQ(d->cache.ttl_ms, 600000);
  auto o = LoadOptionsFromString("cache: {enabled: false, max_bytes: 1000, ttl_ms: 5000}\n" + backends, "t.yaml");
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_FALSE(o->cache.enabled);
  EXPECT_EQ(o->cache.max_bytes, 1000);
  EXPECT_EQ(o->cache.ttl_ms, 5000);
  ExpectError("cache: {ttl_ms: 0}\n" + backends, "c.yaml:1: cache.ttl_ms: must be between");
  ExpectError("cache:\n  size: 5\n" + backends, "c.yaml:2: cache.size: unknown key");
}

TEST(Config, TelemetryDefaultsAndKeys) {
  const std::string backends = "backends:\n  - {name: a, tier: edge, url: 'http://x/v1', models: [m]}\n";
  auto d = LoadOptionsFromString(backends, "t.yaml");
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_TRUE(d->telemetry.metrics);
  EXPECT_EQ(d->telemetry.decision_log.path, "");
  EXPECT_EQ(d->telemetry.decision_log.batch, 256);
  EXPECT_EQ(d->telemetry.decision_log.retention_rows, 1000000);
  EXPECT_EQ(d->telemetry.decision_log.retention_days, 30);
  EXPECT_EQ(d->telemetry.access_log.path, "");
  EXPECT_FALSE(d->telemetry.access_log.emf);
  EXPECT_NE(DescribeOptions(*d).find("decision log off"), std::string::npos);

  auto o = LoadOptionsFromString(R"(
telemetry:
  metrics: false
  decision_log: {path: /tmp/d.db, batch: 64, flush_ms: 50, queue: 1000, retention_rows: 5000, retention_days: 7}
  access_log: {path: '-', emf: true, emf_namespace: fleet}
)" + backends, "t.yaml");
  ASSERT_TRUE(o.ok()) << o.status().message();
  const auto& t = o->telemetry;
  EXPECT_FALSE(t.metrics);
  EXPECT_EQ(t.decision_log.path, "/tmp/d.db");
  EXPECT_EQ(t.decision_log.batch, 64);
  EXPECT_EQ(t.decision_log.flush_ms, 50);
  EXPECT_EQ(t.decision_log.queue, 1000);
  EXPECT_EQ(t.decision_log.retention_rows, 5000);
  EXPECT_EQ(t.decision_log.retention_days, 7);
  EXPECT_EQ(t.access_log.path, "-");
  EXPECT_TRUE(t.access_log.emf);
  EXPECT_EQ(t.access_log.emf_namespace, "fleet");
  const std::string desc = DescribeOptions(*o);
  EXPECT_NE(desc.find("decision log /tmp/d.db (batches of 64"), std::string::npos) << desc;
  EXPECT_NE(desc.find("access log stderr (+ CloudWatch EMF, namespace fleet)"), std::string::npos) << desc;

  ExpectError("telemetry:\n  decision_log:\n    batch: 0\n" + backends, "c.yaml:3: telemetry.decision_log.batch: must be between");
  ExpectError("telemetry:\n  decision_log: {retention_days: soon}\n" + backends, "c.yaml:2: telemetry.decision_log.retention_days: expected a number");
  ExpectError("telemetry:\n  metrics: maybe\n" + backends, "c.yaml:2: telemetry.metrics: expected true or false");
  ExpectError("telemetry:\n  acces_log: {}\n" + backends, "c.yaml:2: telemetry.acces_log: unknown key");
  ExpectError("telemetry:\n  access_log:\n    emf_namespace: ''\n" + backends, "c.yaml:3: telemetry.access_log.emf_namespace: must not be empty");
}

TEST(Config, DecisionLogExportToS3) {
  const std::string backends = "backends:\n  - {name: a, tier: edge, url: 'http://x/v1', models: [m]}\n";
  auto d = LoadOptionsFromString(backends, "t.yaml");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->telemetry.decision_log.exports.s3, "");
  EXPECT_EQ(d->telemetry.decision_log.exports.interval_s, 300);
  EXPECT_EQ(d->telemetry.decision_log.exports.timeout_ms, 10000);
  auto o = LoadOptionsFromString(R"(
telemetry:
  decision_log:
    path: /tmp/d.db
    export: {s3: s3://bkt/decisions/, interval_s: 60, region: eu-west-1, endpoint: 'http://127.0.0.1:9000', timeout_ms: 2000}
)" + backends, "t.yaml");
  ASSERT_TRUE(o.ok()) << o.status().message();
  const auto& e = o->telemetry.decision_log.exports;
  EXPECT_EQ(e.s3, "s3://bkt/decisions/");
  EXPECT_EQ(e.interval_s, 60);
  EXPECT_EQ(e.region, "eu-west-1");
  EXPECT_EQ(e.endpoint, "http://127.0.0.1:9000");
  EXPECT_EQ(e.timeout_ms, 2000);
  EXPECT_NE(DescribeOptions(*o).find("exported to s3://bkt/decisions/ every 60 s"), std::string::npos) << DescribeOptions(*o);
  ExpectError("telemetry:\n  decision_log:\n    export: {s3: 'bkt/x'}\n" + backends,
              "c.yaml:3: telemetry.decision_log.export.s3: must be s3://BUCKET or s3://BUCKET/PREFIX");
  ExpectError("telemetry:\n  decision_log:\n    export: {interval_s: 0}\n" + backends, "c.yaml:3: telemetry.decision_log.export.interval_s: must be between");
  ExpectError("telemetry:\n  decision_log:\n    export: {endpoint: 'localhost:9000'}\n" + backends,
              "c.yaml:3: telemetry.decision_log.export.endpoint: must be an http:// or https:// URL");
  ExpectError("telemetry:\n  decision_log:\n    export: {bucket: x}\n" + backends, "c.yaml:3: telemetry.decision_log.export.bucket: unknown key");
}

TEST(Config, DashboardDefaultsAndKeys) {
  const std::string backends = "backends:\n  - {name: a, tier: edge, url: 'http://x/v1', models: [m]}\n";
  auto d = LoadOptionsFromString(backends, "t.yaml");
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_TRUE(d->dashboard.enabled);
  EXPECT_EQ(d->dashboard.token_env, "");
  EXPECT_EQ(d->dashboard.decisions, 200);
  EXPECT_EQ(d->dashboard.window_s, 300);
  EXPECT_NE(DescribeOptions(*d).find("token none"), std::string::npos) << DescribeOptions(*d);

  auto o = LoadOptionsFromString("dashboard: {enabled: false, token_env: MEC_TEST_UNSET_TOKEN_VAR, decisions: 50, window_s: 120}\n" + backends,
                                 "t.yaml");
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_FALSE(o->dashboard.enabled);
  EXPECT_EQ(o->dashboard.token_env, "MEC_TEST_UNSET_TOKEN_VAR");
  EXPECT_EQ(o->dashboard.decisions, 50);
  EXPECT_EQ(o->dashboard.window_s, 120);
  EXPECT_NE(DescribeOptions(*o).find("$MEC_TEST_UNSET_TOKEN_VAR (NOT SET)"), std::string::npos) << DescribeOptions(*o);

  ExpectError("dashboard: {window_s: 30}\n" + backends, "c.yaml:1: dashboard.window_s: must be between 60 and 3600");
  ExpectError("dashboard: {window_s: 123}\n" + backends, "c.yaml:1: dashboard.window_s: must be a multiple of 5");
  ExpectError("dashboard: {decisions: 0}\n" + backends, "c.yaml:1: dashboard.decisions: must be between");
  ExpectError("dashboard:\n  token: abc\n" + backends, "c.yaml:2: dashboard.token: unknown key");
  ExpectError("dashboard: {token_env: [a, b]}\n" + backends, "c.yaml:1: dashboard.token_env: expected a string");
}

}  // namespace
}  // namespace mec

namespace mec {
namespace {

constexpr const char* kOneBackend = "backends:\n  - {name: a, tier: edge, url: 'http://x/v1', models: [m]}\n";

// routing.profiles: user-defined policies from the route/ plugins, with weights.
TEST(Config, RoutingProfiles) {
  auto o = LoadOptionsFromString(std::string(R"(
routing:
  policy: fast-cheap
  shadow_policy: edge-first
  profiles:
    fast-cheap:
      scorers: {latency: 0.7, cost: 0.3}
    edge-first:
      filters: [edge-tier]
      scorers: {load: 1}
      picker: max-score
      reason: edge first
    spread:
      picker: round-robin
)") + kOneBackend, "p.yaml");
  ASSERT_TRUE(o.ok()) << o.status().message();
  ASSERT_EQ(o->routing.profiles.size(), 3u);
  const auto& fc = o->routing.profiles[0];
  EXPECT_EQ(fc.name, "fast-cheap");
  EXPECT_EQ(fc.picker, "max-score");
  ASSERT_EQ(fc.scorers.size(), 2u);
  EXPECT_EQ(fc.scorers[0].scorer, "latency");
  EXPECT_DOUBLE_EQ(fc.scorers[0].weight, 0.7);
  EXPECT_EQ(fc.scorers[1].scorer, "cost");
  EXPECT_EQ(o->routing.profiles[1].filters, std::vector<std::string>{"edge-tier"});
  EXPECT_EQ(o->routing.profiles[1].reason, "edge first");
  EXPECT_EQ(o->routing.profiles[2].picker, "round-robin");
  EXPECT_EQ(o->routing.policy, "fast-cheap");
  EXPECT_NE(DescribeOptions(*o).find("profile fast-cheap: filters [], scorers [latency x0.7 + cost x0.3], picker max-score"),
            std::string::npos)
      << DescribeOptions(*o);
}

TEST(Config, RoutingProfileErrorsNameTheKey) {
  auto err = [](const std::string& routing, const std::string& needle) { ExpectError(routing + kOneBackend, needle); };
  err("routing:\n  profiles:\n    p:\n      scorers: {speed: 1}\n", "c.yaml:4: routing.profiles.p.scorers.speed: unknown scorer 'speed' (known: latency,");
  err("routing:\n  profiles:\n    p:\n      scorers: {cost: -1}\n", "c.yaml:4: routing.profiles.p.scorers.cost: must be between 0 and 1000");
  err("routing:\n  profiles:\n    p:\n      scorers: {cost: 0}\n", "routing.profiles.p.scorers.cost: weight must be greater than 0");
  err("routing:\n  profiles:\n    p:\n      scorers: {cost: lots}\n", "routing.profiles.p.scorers.cost: expected a number");
  err("routing:\n  profiles:\n    p:\n      scorers: [cost]\n", "routing.profiles.p.scorers: expected a mapping");
  err("routing:\n  profiles:\n    p:\n      filters: [moon-tier]\n", "routing.profiles.p.filters: unknown filter 'moon-tier' (known: cloud-tier,");
  err("routing:\n  profiles:\n    p:\n      filters: [privacy]\n", "'privacy' is a hard filter, which every profile applies already");
  err("routing:\n  profiles:\n    p:\n      picker: best\n", "routing.profiles.p.picker: unknown picker 'best' (known: max-score,");
  err("routing:\n  profiles:\n    p:\n      pickr: random\n", "routing.profiles.p.pickr: unknown key");
  err("routing:\n  profiles:\n    p: {}\n", "routing.profiles.p: needs scorers, filters or a picker other than max-score");
  err("routing:\n  profiles:\n    adaptive:\n      picker: random\n", "routing.profiles.adaptive: 'adaptive' is a built-in policy");
  err("routing:\n  profiles:\n    Bad Name:\n      picker: random\n", "a profile name uses a-z");
  err("routing:\n  profiles: [a]\n", "routing.profiles: expected a mapping");
  err("routing:\n  policy: fast\n", "c.yaml:2: routing.policy: unknown policy 'fast' (known: adaptive,");
  err("routing:\n  shadow_policy: fast\n  profiles:\n    slow: {picker: random}\n", "unknown policy 'fast' (known: adaptive, cloud-only, edge-only, device-only, static, round-robin, random, least-latency, least-busy, cost-first, preference, slow)");
}

// The engine keys of a backend: engine, engine_poll_ms, engine_stale_ms (docs/engines.md).
const std::string kEngineHead = "backends:\n  - name: a\n    tier: edge\n    url: http://10.0.0.2:8000/v1\n    models: [m]\n";

TEST(EngineOptions, DefaultIsOpenAINothingPolled) {
  auto o = LoadOptionsFromString(kEngineHead, "c.yaml");
  ASSERT_TRUE(o.ok()) << o.status().message();
  const EngineOptions& e = o->backends[0].engine;
  EXPECT_EQ(e.kind, EngineKind::kOpenAI);
  EXPECT_EQ(e.poll_ms, 100);
  EXPECT_EQ(e.stale_ms, 2000);
  EXPECT_EQ(DescribeOptions(*o).find("engine:"), std::string::npos);
}

TEST(EngineOptions, ParsesEachEngine) {
  for (const char* name : {"vllm", "llamacpp", "ollama", "openai"}) {
    auto o = LoadOptionsFromString(kEngineHead + "    engine: " + name + "\n", "c.yaml");
    ASSERT_TRUE(o.ok()) << o.status().message();
    EXPECT_EQ(EngineKindName(o->backends[0].engine.kind), name);
  }
  auto o = LoadOptionsFromString(kEngineHead + "    engine: vllm\n    engine_poll_ms: 50\n    engine_stale_ms: 1500\n", "c.yaml");
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->backends[0].engine.kind, EngineKind::kVllm);
  EXPECT_EQ(o->backends[0].engine.poll_ms, 50);
  EXPECT_EQ(o->backends[0].engine.stale_ms, 1500);
  const std::string d = DescribeOptions(*o);
  EXPECT_NE(d.find("engine: vllm, polled every 50 ms at the url's origin, stale after 1500 ms; saturated past 5 waiting or KV 0.8"),
            std::string::npos) << d;
  auto t = LoadOptionsFromString(kEngineHead + "    engine: vllm\n    engine_max_waiting: 12\n    engine_max_kv_usage: 0.95\n", "c.yaml");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->backends[0].engine.max_waiting, 12);
  EXPECT_EQ(t->backends[0].engine.max_kv_usage, 0.95);
  EXPECT_EQ(t->backends[0].engine.cold_load_ms, 5000);
  auto cold = LoadOptionsFromString(kEngineHead + "    engine: ollama\n    engine_cold_load_ms: 1200\n", "c.yaml");
  ASSERT_TRUE(cold.ok()) << cold.status().message();
  EXPECT_EQ(cold->backends[0].engine.cold_load_ms, 1200);
  ExpectError(kEngineHead + "    engine_max_kv_usage: 1.5\n", "backends[0].engine_max_kv_usage: must be between");
  ExpectError(kEngineHead + "    engine_max_waiting: -1\n", "backends[0].engine_max_waiting: must be between");
}

TEST(EngineOptions, ErrorsNameTheKeyAndLine) {
  ExpectError(kEngineHead + "    engine: sglang\n", "c.yaml:6: backends[0].engine: expected vllm, llamacpp, ollama or openai, got 'sglang'");
  ExpectError(kEngineHead + "    engine: [vllm]\n", "c.yaml:6: backends[0].engine: expected a string");
  ExpectError(kEngineHead + "    engine_poll_ms: 10\n", "c.yaml:6: backends[0].engine_poll_ms: must be between 50 and 5000");
  ExpectError(kEngineHead + "    engine_poll_ms: 6000\n", "backends[0].engine_poll_ms: must be between 50 and 5000");
  ExpectError(kEngineHead + "    engine_poll_ms: often\n", "backends[0].engine_poll_ms: expected a number");
  ExpectError(kEngineHead + "    engine_stale_ms: 50\n", "c.yaml:6: backends[0].engine_stale_ms: must be between");
  ExpectError(kEngineHead + "    engine_poll_ms: 1000\n    engine_stale_ms: 500\n",
                    "c.yaml:7: backends[0].engine_stale_ms: must be at least engine_poll_ms");
  ExpectError(kEngineHead + "    engine_poll: 100\n", "c.yaml:6: backends[0].engine_poll: unknown key");
}

TEST(Config, AuthAndServerExposure) {
  const std::string one = "backends:\n  - {name: a, tier: edge, url: 'http://x/v1', models: [m]}\n";
  auto d = LoadOptionsFromString(one, "c.yaml");
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->auth.keys_db.empty());  // no keys unless asked for
  EXPECT_FALSE(d->server.allow_anonymous);
  EXPECT_FALSE(d->server.open_metrics);
  EXPECT_FALSE(d->server.share_port);  // a port in use is an error unless shared on purpose
  EXPECT_EQ(d->auth.redis_timeout_ms, 50);
  auto o = LoadOptionsFromString("server: {allow_anonymous: true, open_metrics: true, share_port: true}\n"
                                 "auth: {keys_db: k.db, reload_ms: 100, redis_timeout_ms: 20, fallback_replicas: 3, reserve_output_tokens: 512}\n" + one,
                                 "c.yaml");
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_TRUE(o->server.allow_anonymous);
  EXPECT_TRUE(o->server.open_metrics);
  EXPECT_TRUE(o->server.share_port);
  ExpectError("server: {share_port: 2}\n" + one, "server.share_port");
  ExpectError("server: {listen: '127.0.0.1:99999'}\n" + one, "server.listen");  // not narrowed to 34463
  ExpectError("server: {listen: '127.0.0.1:80x'}\n" + one, "server.listen");
  EXPECT_EQ(o->auth.keys_db, "k.db");
  EXPECT_EQ(o->auth.reload_ms, 100);
  EXPECT_EQ(o->auth.redis_timeout_ms, 20);
  EXPECT_EQ(o->auth.fallback_replicas, 3);
  EXPECT_EQ(o->auth.reserve_output_tokens, 512);
  ExpectError("auth: {keys_db: ''}\n" + one, "auth.keys_db");
  ExpectError("auth: {key_db: k.db}\n" + one, "auth.key_db: unknown key");
  ExpectError("auth: {keys_db: k.db, redis_timeout_ms: 0}\n" + one, "auth.redis_timeout_ms");
  // server.tls: files must be readable, cert and key go together.
  const std::string self = std::string(MEC_SOURCE_DIR) + "/src/config/config_test.cc";  // any readable file
  auto t = LoadOptionsFromString("server: {tls: {cert: " + self + ", key: " + self + "}}\n" + one, "c.yaml");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_TRUE(t->server.tls.enabled());
  EXPECT_FALSE(d->server.tls.enabled());
  ExpectError("server: {tls: {cert: " + self + "}}\n" + one, "server.tls: needs both cert and key");
  ExpectError("server: {tls: {cert: /nonexistent.pem, key: " + self + "}}\n" + one, "server.tls.cert: cannot read the file");
  ExpectError("server: {tls: {certificate: x}}\n" + one, "server.tls.certificate: unknown key");
}

// The fleet block (docs/fleet.md): publish and/or pull, always with a token.
TEST(FleetOptions, ReadsBothRolesWithDefaults) {
  auto o = LoadOptionsFromString(kEngineHead + "fleet: {publish: true, token_env: MEC_FLEET_TOKEN}\n", "c.yaml");
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_TRUE(o->fleet.publish);
  EXPECT_EQ(o->fleet.token_env, "MEC_FLEET_TOKEN");
  EXPECT_TRUE(o->fleet.url.empty());
  EXPECT_NE(DescribeOptions(*o).find("fleet: publishes GET /v1/fleet/state"), std::string::npos);
  o = LoadOptionsFromString(kEngineHead + "fleet: {url: 'https://region.example/v1/fleet/state', interval_s: 5, token_env: T}\n",
                            "c.yaml");
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_FALSE(o->fleet.publish);
  EXPECT_EQ(o->fleet.interval_s, 5);
  EXPECT_EQ(o->fleet.stale_s, 15);  // 3 x interval_s
  EXPECT_EQ(o->fleet.max_weight, 5);
  EXPECT_EQ(o->fleet.quality_max_weight, 50);
  EXPECT_NE(DescribeOptions(*o).find("quality feedback as at most 50 scores per backend and class"), std::string::npos);
  o = LoadOptionsFromString(kEngineHead + "fleet: {url: 'http://r/v1/fleet/state', token_env: T, quality_max_weight: 0}\n", "c.yaml");
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_EQ(o->fleet.quality_max_weight, 0);
  EXPECT_NE(DescribeOptions(*o).find("quality feedback not applied"), std::string::npos);
  auto off = LoadOptionsFromString(kEngineHead, "c.yaml");
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off->fleet.publish);
  EXPECT_NE(DescribeOptions(*off).find("fleet: off"), std::string::npos);
}

TEST(FleetOptions, ErrorsNameTheKey) {
  ExpectError(kEngineHead + "fleet: {url: 'http://r/v1/fleet/state', token_env: T, quality_max_weight: -1}\n", "fleet.quality_max_weight");
  ExpectError(kEngineHead + "fleet: {publish: true}\n", "fleet.token_env: required with publish or url");
  ExpectError(kEngineHead + "fleet: {url: 'http://r:8080/v1/fleet/state'}\n", "fleet.token_env: required");
  ExpectError(kEngineHead + "fleet: {token_env: T}\n", "fleet: needs publish: true, a url to pull from, or both");
  ExpectError(kEngineHead + "fleet: {url: 'ftp://r/x', token_env: T}\n", "fleet.url: expected http://");
  ExpectError(kEngineHead + "fleet: {url: 'http://r/x', token_env: T, interval_s: 0}\n", "fleet.interval_s: must be between 0.2 and 3600");
  ExpectError(kEngineHead + "fleet: {url: 'http://r/x', token_env: T, interval_s: 10, stale_s: 5}\n",
              "fleet.stale_s: must be at least interval_s");
  ExpectError(kEngineHead + "fleet: {url: 'http://r/x', token_env: T, tls_verify: false}\n", "fleet.tls_verify: needs an https:// url");
  ExpectError(kEngineHead + "fleet: {publish: true, token_env: T, intervall_s: 3}\n", "fleet.intervall_s: unknown key (known: publish,");
}

}  // namespace
}  // namespace mec
