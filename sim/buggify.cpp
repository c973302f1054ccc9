#include "sim/buggify.hpp"

#include "sim/result.hpp"

namespace seedlog::sim {

void BuggifyOptions::validate() const {
  if (!site_enabled.valid()) throw ConfigError("buggify.site_enabled is not a probability");
  if (!fire.valid()) throw ConfigError("buggify.fire is not a probability");
}

std::vector<std::pair<std::string, std::string>> BuggifyOptions::describe() const {
  return {{"buggify.enabled", enabled ? "true" : "false"},
          {"buggify.site_enabled", to_string(site_enabled)},
          {"buggify.fire", to_string(fire)}};
}

Buggify::Buggify(Seed seed, BuggifyOptions options) : seed_(seed), options_(options) {
  options_.validate();
}

bool Buggify::operator()(std::string_view site) {
  if (!options_.enabled) return false;
  auto it = sites_.find(site);
  if (it == sites_.end()) {
    Rng rng = seed_.stream("buggify", fnv1a64(site));
    const bool enabled = rng.chance(options_.site_enabled);
    it = sites_.emplace(std::string(site), enabled).first;
    streams_.emplace(std::string(site), rng);
    if (on_first_) on_first_(site, enabled);
  }
  if (!it->second) return false;
  return streams_.find(site)->second.chance(options_.fire);
}

}  // namespace seedlog::sim
