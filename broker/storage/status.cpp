#include "broker/storage/status.hpp"

#include <fmt/format.h>

namespace seedlog::storage {

std::string_view to_string(LogErrc e) {
  switch (e) {
    case LogErrc::ok: return "ok";
    case LogErrc::io_error: return "io_error";
    case LogErrc::no_space: return "no_space";
    case LogErrc::offset_out_of_range: return "offset_out_of_range";
    case LogErrc::invalid_batch: return "invalid_batch";
    case LogErrc::batch_too_large: return "batch_too_large";
    case LogErrc::non_contiguous_offsets: return "non_contiguous_offsets";
    case LogErrc::epoch_regression: return "epoch_regression";
    case LogErrc::corrupt_data: return "corrupt_data";
    case LogErrc::offline: return "offline";
    case LogErrc::invalid_argument: return "invalid_argument";
  }
  return "?";
}

std::string LogError::to_string() const {
  if (io == sim::Errc::ok) return fmt::format("{}: {}", storage::to_string(code), detail);
  return fmt::format("{} ({}): {}", storage::to_string(code), sim::to_string(io), detail);
}

LogError disk_error(sim::Errc io, std::string detail) {
  SL_ASSERT(io != sim::Errc::ok);
  const LogErrc code = io == sim::Errc::no_space ? LogErrc::no_space : LogErrc::io_error;
  return LogError{code, io, std::move(detail)};
}

Status check_disk(sim::Status st, std::string_view what) {
  if (st.ok()) return Status();
  return disk_error(st.code(), std::string(what));
}

}  // namespace seedlog::storage
