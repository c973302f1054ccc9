// buggify: named code sites in the system under test that, in simulation only, sometimes misbehave
// on purpose (FoundationDB's BUGGIFY): delay before an fsync, drop a response, shrink a timeout,
// return a retriable error.
//
// The first time a run reaches a site, the site is enabled with probability site_enabled; an
// enabled site then fires with probability fire each time it is reached. Each site draws from its
// own stream, derived from the run's seed and the site's name, so adding a site elsewhere does not
// change the behaviour of this one. Everything is off unless BuggifyOptions::enabled.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sim/random.hpp"

namespace seedlog::sim {

struct BuggifyOptions {
  bool enabled = false;
  Ratio site_enabled = Ratio{1, 4};
  Ratio fire = Ratio{1, 4};

  void validate() const;
  std::vector<std::pair<std::string, std::string>> describe() const;
};

class Buggify {
 public:
  Buggify(Seed seed, BuggifyOptions options);
  // Whether `site` misbehaves now. Always false when buggify is off.
  bool operator()(std::string_view site);
  // Sites reached so far and whether each was enabled (ordered by name).
  const std::map<std::string, bool, std::less<>>& sites() const { return sites_; }
  // Called once per site when it is first reached (the World records it in the trace).
  void on_first_reach(std::function<void(std::string_view site, bool enabled)> fn) { on_first_ = std::move(fn); }
  const BuggifyOptions& options() const { return options_; }

 private:
  Seed seed_;
  BuggifyOptions options_;
  std::map<std::string, bool, std::less<>> sites_;
  std::map<std::string, Rng, std::less<>> streams_;
  std::function<void(std::string_view, bool)> on_first_;
};

}  // namespace seedlog::sim
