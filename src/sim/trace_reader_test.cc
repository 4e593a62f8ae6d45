#include "sim/trace_reader.h"

#include <gtest/gtest.h>

#include "sim/data_dir.h"

namespace mec::sim {
namespace {

TEST(TraceReader, AzureCsv) {
  auto rows = ParseAzureTrace("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:03.9799600,4808,10\n2023-11-16 18:17:04.0319600,3180,8\n"
                              "2023-11-16 18:18:04.0319600,100,1\n", "a.csv");
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_DOUBLE_EQ((*rows)[0].arrival_s, 0);
  EXPECT_NEAR((*rows)[1].arrival_s, 0.052, 1e-6);
  EXPECT_NEAR((*rows)[2].arrival_s, 60.052, 1e-6);
  EXPECT_EQ((*rows)[0].input_tokens, 4808);
  EXPECT_EQ((*rows)[1].output_tokens, 8);
  auto fast = ParseAzureTrace("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 23:59:59.5,1,1\n2023-11-17 00:00:00.5,1,1\n", "a.csv", 2);
  ASSERT_TRUE(fast.ok());
  EXPECT_NEAR((*fast)[1].arrival_s, 0.5, 1e-9);  // across midnight, replayed twice as fast
}

TEST(TraceReader, AzureErrorsNameTheLine) {
  auto bad = ParseAzureTrace("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:03.9,12,x\n", "a.csv");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("a.csv:2"), std::string::npos);
  auto order = ParseAzureTrace("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:17:03.9,1,1\n2023-11-16 18:17:02.9,1,1\n", "a.csv");
  ASSERT_FALSE(order.ok());
  EXPECT_NE(order.status().message().find("a.csv:3"), std::string::npos);
}

TEST(TraceReader, MooncakeJsonl) {
  auto rows = ParseMooncakeTrace("{\"timestamp\": 0, \"input_length\": 6758, \"output_length\": 500, \"hash_ids\": [0, 1]}\n"
                                 "{\"timestamp\": 1500, \"input_length\": 7, \"output_length\": 4, \"hash_ids\": []}\n", "m.jsonl");
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_DOUBLE_EQ((*rows)[1].arrival_s, 1.5);
  EXPECT_EQ((*rows)[0].input_tokens, 6758);
  EXPECT_EQ((*rows)[1].output_tokens, 4);
  EXPECT_EQ((*rows)[0].blocks, (std::vector<uint64_t>{0, 1}));
  EXPECT_TRUE((*rows)[1].blocks.empty());
  EXPECT_FALSE(ParseMooncakeTrace("{\"timestamp\": 0}\n", "m.jsonl").ok());
  auto bad = ParseMooncakeTrace("{\"timestamp\": 0, \"input_length\": 6, \"output_length\": 5, \"hash_ids\": [1, x]}\n", "m.jsonl");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("m.jsonl:1: hash_ids"), std::string::npos) << bad.status().message();
}

TEST(TraceReader, RealFilesMatchTheirReadme) {
  auto dir = ResolveDataDir("");
  if (!dir) GTEST_SKIP() << "no data directory (--data, MECROUTER_DATA or ../shared/data): skipping the real-trace test";
  struct Case {
    const char* file;
    size_t rows;
    double span_s, mean_in, mean_out;
  };
  // ../shared/data/README.md §1: rows, span, mean input / output tokens.
  for (const Case& c : {Case{"azure_llm_2023_code.csv", 8819, 3436, 2048, 28}, Case{"azure_llm_2023_conv.csv", 19366, 3502, 1155, 211},
                        Case{"mooncake_fast25_conversation.jsonl", 12031, 3537, 12035, 343}, Case{"mooncake_fast25_synthetic.jsonl", 3993, 1022, 15325, 149}}) {
    auto rows = LoadTrace(*dir + "/traces/" + c.file);
    ASSERT_TRUE(rows.ok()) << rows.status().message();
    EXPECT_EQ(rows->size(), c.rows) << c.file;
    EXPECT_NEAR(rows->back().arrival_s, c.span_s, 0.01 * c.span_s + 2) << c.file;
    double in = 0, out = 0;
    for (const auto& r : *rows) {
      in += static_cast<double>(r.input_tokens);
      out += static_cast<double>(r.output_tokens);
    }
    EXPECT_NEAR(in / rows->size(), c.mean_in, 0.01 * c.mean_in) << c.file;
    EXPECT_NEAR(out / rows->size(), c.mean_out, 0.01 * c.mean_out) << c.file;
  }
}

}  // namespace
}  // namespace mec::sim
