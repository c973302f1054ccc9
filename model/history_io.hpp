// Reading and writing histories.
//
// Formats:
//  - jsonl: seedlog's JSON Lines, one entry per line. Operations use Jepsen's map shape with string
//    names ({"index":3,"type":"ok","f":"send","process":1,"time":52000,
//    "value":[["send",2,[7,1001]]]}); poll results are objects keyed by partition
//    ({"2":[[7,1001]]}). Extra fields: "node", "group", "error", "rebalance-log". Consumer-group
//    events are lines with "type":"group" (see docs/properties.md). Jepsen-shaped JSON (a JSON
//    array of op maps, or one per line) reads the same way.
//  - edn: Jepsen's history.edn: one EDN map per line (or one vector of maps), :keyword names,
//    optionally tagged (#jepsen.history.Op{...}). Non-client ops (:process :nemesis) are skipped
//    and counted in History::skipped_ops.
// Parsing never crashes: bad input returns an Error naming the line and what is wrong.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "model/history.hpp"
#include "model/result.hpp"

namespace seedlog::model {

enum class HistoryFormat : uint8_t { jsonl, edn };
std::string_view to_string(HistoryFormat f);
std::optional<HistoryFormat> parse_history_format(std::string_view name);  // "jsonl", "json", "edn"

// Guesses the format from the first entry: `{"` starts JSON, `{:` or `#` starts EDN. nullopt for
// an empty or unrecognisable text.
std::optional<HistoryFormat> detect_history_format(std::string_view text);

Result<History> parse_history(std::string_view text, HistoryFormat format);
// Detects the format first; an undetectable text is an error.
Result<History> parse_history(std::string_view text);

// seedlog's JSON Lines: every op and group event, in index order, one per line.
std::string to_jsonl(const History& h);

struct EdnExportOptions {
  // Jepsen's checkers know nothing of group events; include them only for seedlog's own reader.
  bool include_group_events = false;
  // Jepsen expects :index to be dense (0, 1, 2...); leaving group events out leaves gaps unless
  // the export renumbers.
  bool renumber = true;
};
// Jepsen's history.edn shape: one map per line.
std::string to_jepsen_edn(const History& h, const EdnExportOptions& options = {});

}  // namespace seedlog::model
