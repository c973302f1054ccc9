// A node's view of time.
//
// Each node has a monotonic clock that may drift (runs fast or slow by drift_ppm parts per
// million of real simulated time) and a wall clock that adds an offset (clock skew) on top. The
// scheduler works in global time; a node's code speaks in its own time, so waits are converted:
// "sleep 100ms" on a node that runs 1% fast lasts 99.0099ms of global time.
#pragma once

#include <cstdint>

#include "sim/assert.hpp"
#include "sim/time.hpp"

namespace seedlog::sim {

class LocalClock {
 public:
  static constexpr int64_t kMaxDriftPpm = 200000;  // +-20%: beyond that no protocol timer is sane

  // The node's monotonic reading at global instant `real`.
  Instant local(Instant real) const {
    // Most nodes never drift: skip the 128-bit division (the result is the same).
    if (drift_ppm_ == 0) return Instant::from_ns(anchor_local_.ns() + (real.ns() - anchor_real_.ns()));
    const __int128_t elapsed = real.ns() - anchor_real_.ns();
    const __int128_t scaled = elapsed * (1000000 + drift_ppm_) / 1000000;
    return Instant::from_ns(anchor_local_.ns() + static_cast<int64_t>(scaled));
  }
  // The global instant at which `local_span` of node time has passed after global `real_now`.
  Instant deadline(Instant real_now, Duration local_span) const {
    if (local_span >= Duration::max()) return Instant::never();
    if (local_span <= Duration::zero()) return real_now;
    if (drift_ppm_ == 0) return real_now + local_span;
    const __int128_t real_span = static_cast<__int128_t>(local_span.count_ns()) * 1000000 / (1000000 + drift_ppm_);
    return real_now + Duration::ns(static_cast<int64_t>(real_span));
  }
  // Wall-clock reading in nanoseconds since the Unix epoch (skew included).
  int64_t wall_ns(Instant real) const { return kEpochNs + local(real).ns() + wall_offset_ns_; }

  void set_drift_ppm(Instant real_now, int64_t ppm) {
    SL_ASSERT(ppm >= -kMaxDriftPpm && ppm <= kMaxDriftPpm);
    anchor_local_ = local(real_now);  // re-anchor so the reading stays continuous
    anchor_real_ = real_now;
    drift_ppm_ = ppm;
  }
  void set_wall_offset(Duration offset) { wall_offset_ns_ = offset.count_ns(); }
  int64_t drift_ppm() const { return drift_ppm_; }
  Duration wall_offset() const { return Duration::ns(wall_offset_ns_); }

  // Simulated wall clocks start at 2024-01-01T00:00:00Z: realistic record timestamps.
  static constexpr int64_t kEpochNs = 1704067200LL * 1000000000LL;

 private:
  Instant anchor_real_;
  Instant anchor_local_;
  int64_t drift_ppm_ = 0;
  int64_t wall_offset_ns_ = 0;
};

}  // namespace seedlog::sim
