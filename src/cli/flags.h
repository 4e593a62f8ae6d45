#pragma once
// A tiny flag reader for subcommands: --name value or --name=value, and bare words.

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mec::cli {

class Flags {
 public:
  // `with_value` lists the flags that take a value; any other --flag is a boolean switch.
  Flags(int argc, char** argv, std::vector<std::string> with_value);
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  std::optional<std::string> Get(const std::string& name) const;
  std::string Get(const std::string& name, const std::string& fallback) const { return Get(name).value_or(fallback); }
  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
  std::string error_;
};

}  // namespace mec::cli
