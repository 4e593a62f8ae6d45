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
  EXPECT_NE(DescribeOptions(*o).find("openai [cloud]"), std::string::npos);
}

void ExpectError(const std::string& yaml, const std::string& needle) {
  auto o = LoadOptionsFromString(yaml, "c.yaml");
  ASSERT_FALSE(o.ok()) << yaml;
  EXPECT_NE(o.status().message().find(needle), std::string::npos) << o.status().message();
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

}  // namespace
}  // namespace mec
