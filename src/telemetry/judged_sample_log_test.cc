#include "telemetry/judged_sample_log.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace mec {
namespace {

class Constant : public ComplexityModel {
 public:
  double WeakAsGoodProbability(std::string_view) const override { return 0.7; }
  std::string_view Name() const override { return "const"; }
};

StoredSample Row(std::string id, double ts, std::string prompt) {
  StoredSample s;
  s.id = std::move(id);
  s.ts = ts;
  s.tier_class = QualityClass::kEdge;
  s.tier = "edge";
  s.backend = "edge-1";
  s.model = "llama";
  s.source = "judge";
  s.as_good = 0.5;
  s.gain = 0.25;
  s.predicted = 0.8;
  s.model_version = "const";
  s.prompt = std::move(prompt);
  s.features = FormatAdaptFeatures(AdaptedComplexityModel::Features(Constant(), s.prompt, 12));
  return s;
}

TEST(JudgedSampleLog, StoresReloadsAndForgetsPromptsButKeepsFeatures) {
  const std::string path = ::testing::TempDir() + "/judged_samples_test.db";
  std::remove(path.c_str());
  {
    auto log = JudgedSampleLog::Open(path);
    ASSERT_TRUE(log.ok()) << log.status().message();
    ASSERT_TRUE((*log)->Append(Row("a", 1000, "hello there")).ok());
    ASSERT_TRUE((*log)->Append(Row("b", 2000000, "prove the theorem")).ok());
    StoredSample again = Row("a", 1000, "hello there");
    again.as_good = 1;  // the same id replaces the row
    ASSERT_TRUE((*log)->Append(again).ok());
    auto n = (*log)->ApplyRetention(2000000, 1);  // one day: row a (ts 1000) is older
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, 1);
  }
  auto rows = ReadJudgedSamples(path);
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].id, "a");
  EXPECT_EQ((*rows)[0].prompt, "");  // past the retention
  EXPECT_DOUBLE_EQ((*rows)[0].as_good, 1);
  EXPECT_EQ((*rows)[1].prompt, "prove the theorem");
  EXPECT_DOUBLE_EQ((*rows)[1].predicted, 0.8);
  // The old row still trains: its features stand in for the prompt, exactly.
  JudgedSample j = ToJudgedSample((*rows)[0]);
  ASSERT_TRUE(j.features.has_value());
  const AdaptFeatures f = AdaptedComplexityModel::Features(Constant(), "hello there", 12);
  EXPECT_EQ(j.features->words, f.words);
  EXPECT_DOUBLE_EQ(j.features->base_logit, f.base_logit);
  EXPECT_EQ(j.features->dense, f.dense);
  EXPECT_EQ(j.features->key, f.key);
  std::remove(path.c_str());
}

TEST(JudgedSampleLog, FeatureTextRejectsDamage) {
  AdaptFeatures f;
  EXPECT_FALSE(ParseAdaptFeatures("", &f));
  EXPECT_FALSE(ParseAdaptFeatures("0.5 1 7|3:0.5 2:0.5||", &f));  // buckets must increase
  EXPECT_FALSE(ParseAdaptFeatures("x 1 7|||", &f));
  EXPECT_FALSE(ParseAdaptFeatures("0.5 1|||", &f));  // no key
  EXPECT_FALSE(ParseAdaptFeatures("0.5 1 7|2:0.5|0.25", &f));  // a part missing
  EXPECT_TRUE(ParseAdaptFeatures("0.5 1 7|2:0.5 3:0.5|0.25 0.75|1.5 2", &f));
  EXPECT_EQ(f.key, 7u);
  EXPECT_EQ(f.words.size(), 2u);
  EXPECT_EQ(f.topic.size(), 2u);
  EXPECT_EQ(f.dense.size(), 2u);
}

// What another replica receives: every field but the prompt, and the feature space.
TEST(JudgedSampleLog, SharedRowsRoundTripWithoutThePrompt) {
  StoredSample s = Row("d-1", 1700000000.5, "What is 2+2? A secret prompt");
  s.tier_class = QualityClass::kDevice;
  s.model = "";  // empty fields survive
  s.backend = "dev\tice";  // a tab cannot break the line
  const std::string line = FormatSharedSample(s, "const/12");
  EXPECT_EQ(line.find("secret"), std::string::npos);
  StoredSample back;
  std::string space;
  ASSERT_TRUE(ParseSharedSample(line, &back, &space));
  EXPECT_EQ(space, "const/12");
  EXPECT_EQ(back.id, "d-1");
  EXPECT_DOUBLE_EQ(back.ts, 1700000000.5);
  EXPECT_EQ(back.tier_class, QualityClass::kDevice);
  EXPECT_EQ(back.backend, "dev ice");
  EXPECT_EQ(back.model, "");
  EXPECT_EQ(back.source, "judge");
  EXPECT_DOUBLE_EQ(back.as_good, 0.5);
  EXPECT_DOUBLE_EQ(back.gain, 0.25);
  EXPECT_DOUBLE_EQ(back.predicted, 0.8);
  EXPECT_EQ(back.model_version, "const");
  EXPECT_TRUE(back.prompt.empty());
  EXPECT_EQ(back.features, s.features);
  // It trains from its features like a row past its retention.
  const JudgedSample j = ToJudgedSample(back);
  ASSERT_TRUE(j.features);
  EXPECT_EQ(j.features->key, PromptKey(s.prompt));
  // Damage is rejected, not half-read.
  EXPECT_FALSE(ParseSharedSample("", &back, &space));
  EXPECT_FALSE(ParseSharedSample(line.substr(0, line.size() / 2), &back, &space));
  std::string bad = line;
  bad.replace(bad.find("\t0.5\t"), 5, "\t1.5\t");  // as_good out of [0, 1]
  EXPECT_FALSE(ParseSharedSample(bad, &back, &space));
}

TEST(JudgedSampleLog, AFileWithoutTheTableHasNoRows) {
  const std::string path = ::testing::TempDir() + "/no_judged_table.db";
  std::remove(path.c_str());
  {
    auto db = SqliteDb::Open(path, false);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("CREATE TABLE other (x)").ok());
  }
  auto rows = ReadJudgedSamples(path);
  ASSERT_TRUE(rows.ok());
  EXPECT_TRUE(rows->empty());
  std::remove(path.c_str());
}

}  // namespace
}  // namespace mec
