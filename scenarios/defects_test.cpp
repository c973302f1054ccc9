// The defect catalog: every defect with a finder scenario is caught by it within its seed budget,
// the same seeds pass without the defect, and switching defects on is checked and recorded.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <set>

#include "broker/server/node.hpp"
#include "model/checker.hpp"
#include "scenarios/defects.hpp"
#include "scenarios/properties.hpp"
#include "scenarios/scenario.hpp"

namespace seedlog::scenarios {
namespace {

TEST(DefectCatalog, NamesAreUniqueAndEachDescribesItsBug) {
  std::set<std::string_view> names;
  for (const DefectInfo& d : all_defects()) {
    EXPECT_TRUE(names.insert(d.name).second) << d.name;
    EXPECT_FALSE(d.recreates.empty()) << d.name;
    EXPECT_EQ(find_defect(d.name), &d);
    if (!d.found_by.empty()) {
      EXPECT_NE(find_scenario(d.found_by), nullptr) << d.name << " is found by an unknown scenario";
      EXPECT_FALSE(d.property.empty()) << d.name;
      EXPECT_GT(d.seeds_to_find, 0) << d.name;
    }
  }
  EXPECT_EQ(find_defect("no-such-defect"), nullptr);
}

TEST(DefectCatalog, EverySwitchTurnsItsDefectOnAndNothingElse) {
  for (const DefectInfo& d : all_defects()) {
    broker::server::NodeConfig config;
    ClientDefects client;
    ASSERT_EQ(apply_defects({std::string(d.name)}, config, &client), "") << d.name;
    const bool any = config.replication.defects.any() || config.raft.defect_vote_ignores_log ||
                     config.replication.log.defects.recovery_point_without_flush ||
                     config.group.defects.commit_from_stale_generation || client.any();
    EXPECT_TRUE(any) << d.name << " switched nothing on";
    EXPECT_EQ(client, client_defects({std::string(d.name)})) << d.name;
  }
  broker::server::NodeConfig config;
  const std::string why = apply_defects({"no-such-defect"}, config);
  EXPECT_NE(why.find("unknown defect 'no-such-defect'"), std::string::npos) << why;
  EXPECT_NE(why.find("raft-vote-ignores-log"), std::string::npos) << "the error lists the known defects: " << why;
}

// assignor-overlap lives in the consumer's assignor: it switches the client flag, no broker setting.
TEST(DefectCatalog, AssignorOverlapIsAClientSwitch) {
  const DefectInfo* d = find_defect("assignor-overlap");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->component, "group");
  EXPECT_NE(d->recreates.find("single ownership"), std::string_view::npos);
  broker::server::NodeConfig config;
  ClientDefects client;
  ASSERT_EQ(apply_defects({"assignor-overlap"}, config, &client), "");
  EXPECT_TRUE(client.assignor_overlap);
  EXPECT_FALSE(config.replication.defects.any() || config.group.defects.commit_from_stale_generation);
  EXPECT_TRUE(client_defects({"assignor-overlap", "no-such-defect"}).assignor_overlap);
  EXPECT_FALSE(client_defects({"raft-vote-ignores-log"}).any());
  // Without a ClientDefects to fill (a scenario without consumers) the name is still accepted.
  EXPECT_EQ(apply_defects({"assignor-overlap"}, config), "");
  // An unknown name among them: an error, and nothing switched on.
  ClientDefects untouched;
  EXPECT_NE(apply_defects({"assignor-overlap", "no-such-defect"}, config, &untouched), "");
  EXPECT_FALSE(untouched.any());
}

TEST(DefectCatalog, AScenarioWithoutBrokersRefusesDefectsAsAUsageError) {
  const RunReport r = run_scenario(*find_scenario("echo-fifo"), 1, RunSettings{.defects = {"raft-vote-ignores-log"}});
  EXPECT_EQ(r.judgement.verdict, Verdict::usage);
  EXPECT_NE(r.judgement.detail.find("no broker"), std::string::npos) << r.judgement.detail;
}

TEST(DefectCatalog, ReproFilesCarryTheDefects) {
  RunReport r;
  r.scenario = "controller-failover";
  r.seed = 7;
  r.defects = {"raft-vote-ignores-log"};
  std::string why;
  const auto back = parse_repro(r.repro_json(), &why);
  ASSERT_TRUE(back.has_value()) << why;
  EXPECT_EQ(back->defects, r.defects);
  auto bad = nlohmann::json::parse(r.repro_json());
  bad["defects"] = "raft-vote-ignores-log";  // a string, not a list of names
  EXPECT_FALSE(parse_repro(bad.dump(), &why).has_value());
  EXPECT_NE(why.find("defects"), std::string::npos) << why;
}

TEST(PropertyCatalog, EveryHistoryAnomalyAndEveryDefectsPropertyIsListed) {
  std::set<std::pair<std::string_view, std::string_view>> seen;
  std::set<std::string_view> names;
  for (const PropertyInfo& p : all_properties()) {
    EXPECT_TRUE(seen.insert({p.name, p.checker}).second) << p.name << " twice for " << p.checker;
    EXPECT_TRUE(p.when == "online" || p.when == "end") << p.name;
    EXPECT_FALSE(p.definition.empty()) << p.name;
    names.insert(p.name);
  }
  for (size_t k = 0; k < model::kAnomalyKindCount; ++k) {
    const auto name = model::to_string(static_cast<model::AnomalyKind>(k));
    EXPECT_TRUE(seen.count({name, "history"})) << name << " is not in the property catalog";
  }
  for (const DefectInfo& d : all_defects()) {
    if (!d.property.empty()) {
      EXPECT_TRUE(names.count(d.property)) << d.name << " reports an unlisted property " << d.property;
    }
  }
}

// The detection test CI runs: each finder scenario, with the defect, fails with the expected
// property on some seed within the budget; without it, every seed up to that one passes.
TEST(DefectCatalog, EveryDefectIsFoundByItsScenarioAndOnlyWithTheDefect) {
  for (const DefectInfo& d : all_defects()) {
    if (d.found_by.empty()) continue;
    const ScenarioInfo* s = find_scenario(d.found_by);
    ASSERT_NE(s, nullptr);
    std::optional<uint64_t> found;
    for (uint64_t seed = 1; seed <= static_cast<uint64_t>(d.seeds_to_find) && !found; ++seed) {
      const RunReport r = run_scenario(*s, seed, RunSettings{.defects = {std::string(d.name)}});
      ASSERT_NE(r.judgement.verdict, Verdict::crash) << d.name << " seed " << seed << ": " << r.judgement.detail;
      if (r.judgement.verdict == Verdict::safety) {
        EXPECT_NE(r.judgement.property.find(d.property), std::string::npos)
            << d.name << " seed " << seed << " failed " << r.judgement.property << ": " << r.judgement.detail;
        found = seed;
      }
    }
    ASSERT_TRUE(found.has_value()) << d.found_by << " did not find " << d.name << " in " << d.seeds_to_find << " seeds";
    RecordProperty(std::string(d.name), static_cast<int>(*found));
    for (uint64_t seed = 1; seed <= *found; ++seed) {
      const RunReport r = run_scenario(*s, seed);
      EXPECT_EQ(r.judgement.verdict, Verdict::pass) << d.found_by << " seed " << seed << " without " << d.name << ": "
                                                    << r.judgement.property << " " << r.judgement.detail;
    }
  }
}

}  // namespace
}  // namespace seedlog::scenarios
