// Scenario files: a scenario written as TOML instead of C++ (docs/scenarios.md has the format).
//
// A file picks a registered family ("cluster") and sets its shape, workload (registered in C++ by
// name), nemesis (a fixed profile or swarm), fault budget, phases, defects and the expected
// outcome. Every error names the file, the line and the key; unknown keys are errors, so a typo
// never silently falls back to a default.
#pragma once

#include <optional>
#include <string>

#include "scenarios/scenario.hpp"

namespace seedlog::scenarios {

// Loads and validates a scenario file. The ScenarioInfo's name is the path as given, so repro
// files and sweep workers find the file again.
std::optional<ScenarioInfo> load_scenario_file(const std::string& path, std::string* error);

// The same from text (`origin` names it in errors).
std::optional<ScenarioInfo> parse_scenario_file(std::string_view text, const std::string& origin, std::string* error);

}  // namespace seedlog::scenarios
