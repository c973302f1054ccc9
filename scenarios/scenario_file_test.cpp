// Scenario files: a file equal to a bundled scenario runs identically; every mistake is an error
// naming the file, the line and the key.
#include <gtest/gtest.h>

#include "scenarios/scenario_file.hpp"
#include "sim/world.hpp"

namespace seedlog::scenarios {
namespace {

std::string error_of(std::string_view text) {
  std::string why;
  auto info = parse_scenario_file(text, "s.toml", &why);
  EXPECT_FALSE(info.has_value()) << text;
  return why;
}

constexpr std::string_view kControllerFailover = R"(
[cluster]
brokers = 5
controllers = 3
[nemesis]
targets = "controllers"
)";

TEST(ScenarioFile, AFileLikeABundledScenarioRunsTheSameTrace) {
  std::string why;
  auto file = parse_scenario_file(kControllerFailover, "cf.toml", &why);
  ASSERT_TRUE(file.has_value()) << why;
  EXPECT_EQ(file->name, "cf.toml");
  for (uint64_t seed : {1, 2}) {
    const RunReport a = run_scenario(*file, seed);
    const RunReport b = run_scenario(*find_scenario("controller-failover"), seed);
    EXPECT_EQ(a.trace_hash, b.trace_hash) << "seed " << seed;
    EXPECT_EQ(a.judgement.verdict, Verdict::pass) << a.judgement.detail;
  }
}

TEST(ScenarioFile, DefectsAndExpectationsAreRead) {
  std::string why;
  auto file = parse_scenario_file(R"(
defects = ["raft-vote-ignores-log"]
[cluster]
brokers = 3
[expect]
verdict = "safety-violation"
property = "leader-completeness"
)",
                                  "d.toml", &why);
  ASSERT_TRUE(file.has_value()) << why;
  EXPECT_EQ(file->expected, Verdict::safety);
  EXPECT_EQ(file->expected_property, "leader-completeness");
}

TEST(ScenarioFile, AFixedNemesisProfileSetsTheRatesAndNoFaultsMeansNone) {
  std::string why;
  auto quiet = parse_scenario_file("[nemesis]\ntargets = \"none\"\n[phases]\nfaults_s = 5\nconverge_s = 10\n", "q.toml", &why);
  ASSERT_TRUE(quiet.has_value()) << why;
  const RunReport r = run_scenario(*quiet, 3);
  EXPECT_TRUE(r.schedule.events.empty());
  EXPECT_EQ(r.judgement.verdict, Verdict::pass) << r.judgement.detail;
  auto fixed = parse_scenario_file("[nemesis]\nprofile = \"fixed\"\nkill = 1\npower_loss = 0\npause = 0\npartition = 0\n"
                                   "clog = 0\nclock_skew = 0\n",
                                   "f.toml", &why);
  ASSERT_TRUE(fixed.has_value()) << why;
  const RunReport k = run_scenario(*fixed, 3);
  ASSERT_FALSE(k.schedule.events.empty());
  for (const auto& e : k.schedule.events) {
    EXPECT_TRUE(e.kind == FaultKind::kill || e.kind == FaultKind::start || e.kind == FaultKind::heal) << to_string(e.kind);
  }
}

// The broker knobs of [cluster] are read and checked; without fetch sessions no leader opens one
// and the cluster still passes every check.
TEST(ScenarioFile, FetchSessionsAndSegmentBytesReachTheBrokers) {
  // Seed 5 of a small produce-consume cluster, counting the fetch sessions the leaders open: all,
  // and those of consumers (client ids g<group>-c<slot>).
  struct Seen {
    RunReport report;
    int sessions = 0;
    int consumer_sessions = 0;
  };
  auto run = [](bool fetch_sessions) {
    const std::string text = std::string(R"(
[workload]
name = "produce-consume"
partitions = 2
rate_per_s = 40
[nemesis]
targets = "none"
[phases]
faults_s = 6
converge_s = 10
[cluster]
brokers = 3
controllers = 3
segment_bytes = 4096
)") + "fetch_sessions = " + (fetch_sessions ? "true" : "false") + "\n";
    Seen seen;
    std::string why;
    auto info = parse_scenario_file(text, "fs.toml", &why);
    EXPECT_TRUE(info.has_value()) << why;
    if (!info) return seen;
    RunSettings settings;
    settings.attach = [&seen](sim::World& w) {
      w.trace().subscribe([&seen](const sim::TraceEvent& e) {
        if (e.kind != "fetch.session_opened") return;
        ++seen.sessions;
        const sim::TraceValue* client = e.find("client");
        if (client != nullptr && client->type == sim::TraceValue::Type::str && client->s.starts_with("g0-c")) ++seen.consumer_sessions;
      });
    };
    seen.report = run_scenario(*info, 5, settings);
    return seen;
  };
  const Seen on = run(true);
  const Seen off = run(false);
  EXPECT_EQ(on.report.judgement.verdict, Verdict::pass) << on.report.judgement.detail;
  EXPECT_EQ(off.report.judgement.verdict, Verdict::pass) << off.report.judgement.detail;
  EXPECT_GE(on.sessions, 2) << "each follower opens a session with each leader";
  EXPECT_GE(on.consumer_sessions, 1) << "consumers open sessions with the leaders they fetch from";
  EXPECT_EQ(off.sessions, 0) << "fetch_sessions = false did not reach the brokers";
  EXPECT_NE(error_of("[cluster]\nfetch_sessions = 1\n").find("fetch_sessions"), std::string::npos);
  EXPECT_NE(error_of("[cluster]\nsegment_bytes = 10\n").find("segment"), std::string::npos);
}

TEST(ScenarioFile, MistakesNameTheFileTheLineAndTheKey) {
  EXPECT_EQ(error_of("[cluster]\nbrokers = 5\nbrokerz = 3\n"), "s.toml:3: unknown key 'cluster.brokerz'");
  EXPECT_EQ(error_of("[cluster]\nbrokers = \"five\"\n"), "s.toml:2: key 'cluster.brokers': expected an integer");
  EXPECT_EQ(error_of("[cluster]\nbrokers = 0\n"), "s.toml:2: key 'cluster.brokers': 0 is not in 1..64");
  EXPECT_EQ(error_of("\n[nemesis]\ntargets = \"some\"\n"),
            "s.toml:3: key 'nemesis.targets': 'some' is not one of all, controllers, none");
  EXPECT_EQ(error_of("[nemesis]\nkill = 3\n"),
            "s.toml:2: key 'nemesis.kill': only a fixed profile (profile = \"fixed\") takes fault rates");
  EXPECT_NE(error_of("defects = [\"nope\"]\n").find("s.toml:1: key 'defects': unknown defect 'nope'"), std::string::npos);
  EXPECT_NE(error_of("[workload]\nname = \"nope\"\n").find("workload.name: unknown workload 'nope' (known: admin-topics"),
            std::string::npos);
  EXPECT_EQ(error_of("[cluster]\ncontrollers = 6\n"), "s.toml: cluster.controllers: 6 is not in 1..brokers (5)");
  EXPECT_EQ(error_of("[expect]\nproperty = \"x\"\n"), "s.toml:2: key 'expect.property': a passing scenario expects no failed property");
  EXPECT_EQ(error_of("cluster = 3\n"), "s.toml:1: key 'cluster': expected a table ([cluster])");
  EXPECT_NE(error_of("[cluster\nbrokers = 3\n").find("s.toml:1:"), std::string::npos) << "a TOML syntax error names the line";
  std::string why;
  EXPECT_FALSE(load_scenario_file("/no/such/file.toml", &why).has_value());
  EXPECT_EQ(why, "/no/such/file.toml: cannot read the scenario file");
}

TEST(ScenarioFile, TheBundledExamplesLoad) {
  for (const char* name : {"controller-failover.toml", "raft-vote-ignores-log.toml"}) {
    std::string why;
    const std::string path = std::string(SEEDLOG_SOURCE_DIR) + "/scenarios/examples/" + name;
    EXPECT_TRUE(load_scenario_file(path, &why).has_value()) << why;
  }
}

}  // namespace
}  // namespace seedlog::scenarios
