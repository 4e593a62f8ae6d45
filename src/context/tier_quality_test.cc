#include "context/tier_quality.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

namespace mec {
namespace {

std::string DataDir() {
  if (const char* d = std::getenv("MECROUTER_DATA")) return d;
  return std::string(MEC_SOURCE_DIR) + "/../shared/data";
}

TEST(TierQuality, FormulaAndLimits) {
  DeviceQualityAssumption a{0.5, 0.8};
  EXPECT_DOUBLE_EQ(DeviceQualityFromEdge(1.0, a), 1.0 - 0.8 * 0.5);
  EXPECT_DOUBLE_EQ(DeviceQualityFromEdge(0.5, a), 0.5 * 0.6);
  EXPECT_DOUBLE_EQ(DeviceQualityFromEdge(0.9, {1.0, 0.8}), 0.9);  // as accurate as edge: same quality
  EXPECT_DOUBLE_EQ(DeviceQualityFromEdge(1.7, {1.0, 0.0}), 1.0);  // clamped
}

TEST(TierQuality, SmallerDeviceModelIsWorse) {
  auto one = CalibratedDeviceAssumption("Llama-3.2-1B-Instruct", "MMLU");
  auto three = CalibratedDeviceAssumption("Llama-3.2-3B-Instruct", "MMLU");
  ASSERT_TRUE(one.ok() && three.ok());
  EXPECT_NEAR(one->accuracy_ratio, 49.3 / 69.4, 1e-12);
  EXPECT_NEAR(three->accuracy_ratio, 63.4 / 69.4, 1e-12);
  EXPECT_NEAR(one->joint_success_share, 0.764, 1e-3);
  EXPECT_LT(DeviceQualityFromEdge(0.8, *one), DeviceQualityFromEdge(0.8, *three));
  EXPECT_LT(DeviceQualityFromEdge(0.8, *three), 0.8);
  EXPECT_FALSE(CalibratedDeviceAssumption("TinyLlama", "MMLU").ok());
  EXPECT_FALSE(CalibratedDeviceAssumption("Llama-3.2-1B-Instruct", "HellaSwag").ok());
}

TEST(TierQuality, ConstantsMatchCalibrationCsv) {
  const std::string csv = DataDir() + "/calibration/model_quality.csv";
  if (!std::filesystem::exists(csv)) GTEST_SKIP() << "calibration data not found at " << csv << " (set MECROUTER_DATA)";
  for (const char* dev : {"Llama-3.2-1B-Instruct", "Llama-3.2-3B-Instruct"}) {
    for (const char* bench : {"MMLU", "GSM8K"}) {
      auto from_csv = AccuracyRatioFromCsv(csv, dev, "Llama-3.1-8B-Instruct", bench);
      ASSERT_TRUE(from_csv.ok()) << from_csv.status().message();
      EXPECT_NEAR(CalibratedDeviceAssumption(dev, bench)->accuracy_ratio, *from_csv, 1e-12) << dev << " " << bench;
    }
  }
}

}  // namespace
}  // namespace mec
