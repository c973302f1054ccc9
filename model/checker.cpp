#include "model/checker.hpp"

#include <algorithm>

#include "model/analysis.hpp"

namespace seedlog::model {

namespace {

constexpr std::array<std::string_view, kAnomalyKindCount> kKindNames = {
    "lost-write",       "unseen",        "duplicate",         "inconsistent-offsets",
    "aborted-read",     "unwritten-read", "poll-skip",        "nonmonotonic-poll",
    "int-poll-skip",    "int-nonmonotonic-poll", "nonmonotonic-send", "partition-order",
    "durability",       "committed-offset-regression"};

}  // namespace

std::string_view to_string(AnomalyKind k) { return kKindNames.at(static_cast<size_t>(k)); }

std::optional<AnomalyKind> parse_anomaly_kind(std::string_view name) {
  for (size_t i = 0; i < kKindNames.size(); ++i) {
    if (kKindNames[i] == name) return static_cast<AnomalyKind>(i);
  }
  if (name == "G1a") return AnomalyKind::aborted_read;  // Jepsen's name for it
  return std::nullopt;
}

bool is_loss_kind(AnomalyKind k) {
  switch (k) {
    case AnomalyKind::lost_write:
    case AnomalyKind::unseen:
    case AnomalyKind::durability:
    // A truncated offset reused by a later record shows as these three:
    case AnomalyKind::inconsistent_offsets:
    case AnomalyKind::nonmonotonic_send:
    case AnomalyKind::partition_order:
      return true;
    default:
      return false;
  }
}

AnomalySet AnomalySet::all() {
  AnomalySet s;
  s.bits_.fill(true);
  return s;
}

AnomalySet AnomalySet::without(AnomalyKind k) const {
  AnomalySet s = *this;
  s.bits_[static_cast<size_t>(k)] = false;
  return s;
}

AnomalySet AnomalySet::with(AnomalyKind k) const {
  AnomalySet s = *this;
  s.bits_[static_cast<size_t>(k)] = true;
  return s;
}

std::string_view to_string(AnomalyStatus s) {
  switch (s) {
    case AnomalyStatus::violation: return "violation";
    case AnomalyStatus::allowed_by_contract: return "allowed-by-contract";
    case AnomalyStatus::not_an_error: return "not-an-error";
  }
  SL_UNREACHABLE("status");
}

namespace {

bool anomaly_less(const Anomaly& x, const Anomaly& y) {
  if (x.kind != y.kind) return x.kind < y.kind;
  if (auto c = x.partition <=> y.partition; c != 0) return c < 0;
  const int64_t xo = x.offsets.empty() ? -1 : x.offsets.front().value();
  const int64_t yo = y.offsets.empty() ? -1 : y.offsets.front().value();
  if (xo != yo) return xo < yo;
  const int64_t xi = x.ops.empty() ? -1 : x.ops.front().value();
  const int64_t yi = y.ops.empty() ? -1 : y.ops.front().value();
  if (xi != yi) return xi < yi;
  return x.group < y.group;
}

void classify(Anomaly& a, const CheckOptions& o, const LossVerdict& loss) {
  if (is_loss_kind(a.kind)) a.explanation += "; lost: " + loss.reason;
  if (!o.errors.contains(a.kind)) {
    a.status = AnomalyStatus::not_an_error;
  } else if (is_loss_kind(a.kind) && loss.allowed) {
    a.status = AnomalyStatus::allowed_by_contract;
  } else {
    a.status = AnomalyStatus::violation;
  }
}

CheckStats stats_of(const detail::Analysis& a) {
  CheckStats s;
  s.ops = static_cast<int64_t>(a.h.ops().size());
  s.group_events = static_cast<int64_t>(a.h.group_events().size());
  s.partitions = static_cast<int64_t>(a.h.key_count());
  for (const detail::Write& w : a.writes) {
    if (w.outcome == detail::Outcome::ok) ++s.sends_acknowledged;
    if (w.outcome == detail::Outcome::fail) ++s.sends_failed;
    if (w.outcome == detail::Outcome::unknown) ++s.sends_unknown;
  }
  s.records_read = static_cast<int64_t>(a.h.record_count());
  return s;
}

}  // namespace

CheckResult check_history(const History& h, const CheckOptions& options) {
  const detail::Analysis analysis(h);
  std::vector<Anomaly> found;
  detail::check_values(analysis, options, found);
  detail::check_losses(analysis, options, found);
  detail::check_polls(analysis, options, found);
  detail::check_sends(analysis, options, found);
  detail::check_groups(analysis, options, found);

  CheckResult r;
  r.contract = describe(options.contract);
  r.stats = stats_of(analysis);
  const LossVerdict loss = classify_loss(options.contract);
  std::sort(found.begin(), found.end(), anomaly_less);
  for (Anomaly& a : found) {
    classify(a, options, loss);
    if (a.status == AnomalyStatus::violation) r.valid = false;
    int64_t& count = r.counts[static_cast<size_t>(a.kind)];
    if (static_cast<size_t>(count++) < options.max_anomalies_per_kind) {
      r.anomalies.push_back(std::move(a));
    }
  }
  return r;
}

}  // namespace seedlog::model
