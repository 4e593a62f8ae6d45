#include "learn/router_eval_data.h"

#include <gtest/gtest.h>

#include <fstream>

namespace mec {
namespace {

std::string WriteTemp(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

class RouterEvalDataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    labels_ = WriteTemp("labels.csv",
                        "item_id,benchmark,subject,prompt_chars,contaminated,mixtral_8x7b_correct,gpt4_1106_correct,"
                        "mixtral_response_chars,gpt4_response_chars\n"
                        "mmlu/anatomy/0,mmlu,anatomy,20,0,1,1,,\n"
                        "mmlu/anatomy/1,mmlu,anatomy,25,0,0,1,,\n"
                        "gsm8k/test/0,gsm8k,math_word_problem,30,1,0,1,10,20\n"
                        "gsm8k/test/1,gsm8k,math_word_problem,31,0,1,0,10,20\n");
    prompts_ = WriteTemp("prompts.jsonl",
                         "{\"item_id\": \"mmlu/anatomy/0\", \"prompt\": \"Which bone?\\nA. x\\nB. y\"}\n"
                         "{\"item_id\": \"mmlu/anatomy/1\", \"prompt\": \"Caf\\u00e9 \\\"quoted\\\"\"}\n"
                         "{\"item_id\": \"gsm8k/test/0\", \"prompt\": \"p0\"}\n"
                         "{\"item_id\": \"gsm8k/test/1\", \"prompt\": \"p1\"}\n");
  }
  std::string labels_, prompts_;
};

TEST_F(RouterEvalDataTest, ReadsLabelsAndDerivesTheLabel) {
  auto items = ReadCorrectnessCsv(labels_);
  ASSERT_TRUE(items.ok()) << items.status().message();
  ASSERT_EQ(items->size(), 4u);
  EXPECT_EQ((*items)[1].subject, "anatomy");
  EXPECT_EQ((*items)[1].prompt_chars, 25);
  EXPECT_TRUE((*items)[0].WeakAsGood());   // both right
  EXPECT_FALSE((*items)[1].WeakAsGood());  // strong right, weak wrong
  EXPECT_TRUE((*items)[3].WeakAsGood());   // weak right, strong wrong
  EXPECT_TRUE((*items)[2].contaminated);
}

TEST_F(RouterEvalDataTest, ReadsPromptsWithEscapes) {
  auto p = ReadPromptsJsonl(prompts_);
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->at("mmlu/anatomy/0"), "Which bone?\nA. x\nB. y");
  EXPECT_EQ(p->at("mmlu/anatomy/1"), "Caf\xc3\xa9 \"quoted\"");
}

TEST_F(RouterEvalDataTest, JoinsListedIdsAndDropsContaminated) {
  const std::string ids = WriteTemp("ids.txt", "# a comment\ngsm8k/test/1\ngsm8k/test/0\n\nmmlu/anatomy/1\n");
  JoinStats s;
  auto joined = LoadLabelledPrompts(labels_, prompts_, ids, &s);
  ASSERT_TRUE(joined.ok()) << joined.status().message();
  ASSERT_EQ(joined->size(), 2u);
  EXPECT_EQ((*joined)[0].item.item_id, "gsm8k/test/1");  // list order
  EXPECT_EQ((*joined)[0].prompt, "p1");
  EXPECT_EQ((*joined)[1].item.item_id, "mmlu/anatomy/1");
  EXPECT_EQ(s.requested, 3u);
  EXPECT_EQ(s.dropped_contaminated, 1u);
}

TEST_F(RouterEvalDataTest, UnknownOrRepeatedIdsAreErrors) {
  EXPECT_FALSE(LoadLabelledPrompts(labels_, prompts_, WriteTemp("bad.txt", "mmlu/anatomy/9\n")).ok());
  EXPECT_FALSE(LoadLabelledPrompts(labels_, prompts_, WriteTemp("dup.txt", "mmlu/anatomy/0\nmmlu/anatomy/0\n")).ok());
  EXPECT_FALSE(ReadCorrectnessCsv("/nonexistent.csv").ok());
  EXPECT_FALSE(ReadCorrectnessCsv(WriteTemp("nohdr.csv", "a,b\n1,2\n")).ok());
}

TEST_F(RouterEvalDataTest, IdListRoundTrip) {
  const std::string path = ::testing::TempDir() + "/ids_rt.txt";
  ASSERT_TRUE(WriteIdList(path, {"a", "b/c"}).ok());
  auto back = ReadIdList(path);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, (std::vector<std::string>{"a", "b/c"}));
}

}  // namespace
}  // namespace mec
