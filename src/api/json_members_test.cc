#include "api/json_members.h"

#include <gtest/gtest.h>

#include <simdjson.h>

namespace mec {
namespace {

std::vector<std::string> Values(std::string_view json) {
  std::vector<std::string> out;
  JsonMembers m(json);
  for (std::string_view v = m.NextValue(); !v.empty(); v = m.NextValue()) out.emplace_back(v);
  return out;
}

TEST(JsonMembers, EachValueAsWrittenInOrder) {
  EXPECT_EQ(Values(R"({"a":1,"b":"x","c":[1,{"d":"}"}],"e":{"f":[]},"g":true,"h":null,"i":-1.5e3})"),
            (std::vector<std::string>{"1", R"("x")", R"([1,{"d":"}"}])", R"({"f":[]})", "true", "null", "-1.5e3"}));
  EXPECT_EQ(Values(" \n{ \"a\" :\t[ 1 , 2 ] , \"b\" : \"q\\\"}\\\\\" , \"c\":0 }\n"),
            (std::vector<std::string>{"[ 1 , 2 ]", "\"q\\\"}\\\\\"", "0"}));
  EXPECT_TRUE(Values("{}").empty());
  EXPECT_TRUE(Values(" { } ").empty());
}

TEST(JsonMembers, MinifiedValueDropsOnlyWhitespaceOutsideStrings) {
  std::string out;
  AppendMinified("{ \"k\" : [ \"a b\\\" c\" , 1 ,\n{ } ] }", out);
  EXPECT_EQ(out, "{\"k\":[\"a b\\\" c\",1,{}]}");
}

// In step with a DOM parser's members, and equal to its minified form where no escape or number
// is spelled differently.
TEST(JsonMembers, MatchesTheParsedDocument) {
  const std::string json = R"({ "model": "m", "messages": [ {"role": "user", "content": "a \"b\" {c}"} ],
    "max_tokens": 16, "stop": ["\n\n", "]"], "mec": {"deadline_ms": 5}, "model": "again" })";
  simdjson::dom::parser parser;
  simdjson::dom::object obj = parser.parse(json).get_object();
  JsonMembers m(json);
  for (auto [key, v] : obj) {
    std::string got;
    AppendMinified(m.NextValue(), got);
    EXPECT_EQ(got, simdjson::minify(v)) << key;
  }
  EXPECT_TRUE(m.NextValue().empty());
}

}  // namespace
}  // namespace mec
