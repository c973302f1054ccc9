#include "sim/result.hpp"

namespace seedlog::sim {

std::string_view to_string(Errc e) {
  switch (e) {
    case Errc::ok: return "ok";
    case Errc::timeout: return "timeout";
    case Errc::connection_refused: return "connection refused";
    case Errc::connection_reset: return "connection reset";
    case Errc::closed: return "closed";
    case Errc::unreachable: return "unreachable";
    case Errc::no_space: return "no space left on device";
    case Errc::io_error: return "I/O error";
    case Errc::not_found: return "not found";
    case Errc::already_exists: return "already exists";
    case Errc::invalid_argument: return "invalid argument";
    case Errc::cancelled: return "cancelled";
  }
  return "unknown error";
}

}  // namespace seedlog::sim
