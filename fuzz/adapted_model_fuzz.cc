// The adapted (judged-sample) model reader (context/adapted_complexity_model.h): the text another
// replica publishes through Redis, read over the embedded default model. Properties: a model it
// accepts predicts, and its own Serialize() reads back to the same text.

#include <memory>
#include <string>
#include <string_view>

#include "context/adapted_complexity_model.h"
#include "context/learned_complexity_model.h"
#include "fuzz/fuzz_target.h"

MEC_FUZZ_TARGET(adapted_model) {
  static const std::shared_ptr<const mec::ComplexityModel> base = mec::LoadDefaultComplexityModel();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto m = mec::AdaptedComplexityModel::Parse(text, base);
  if (!m.ok()) return 0;
  (void)(*m)->Predict("Which planet is known as the red planet?\nA. Venus\nB. Mars\nC. Jupiter\nD. Saturn");
  (void)(*m)->Estimate("hello there");
  const std::string saved = (*m)->Serialize();
  auto again = mec::AdaptedComplexityModel::Parse(saved, base);
  if (!again.ok()) std::fprintf(stderr, "%s\n", again.status().message().c_str());
  MEC_FUZZ_CHECK(again.ok());
  MEC_FUZZ_CHECK((*again)->Serialize() == saved);
  return 0;
}
