#include "model/result.hpp"

#include <fmt/format.h>

namespace seedlog::model {

std::string Error::to_string() const {
  if (line == 0) return message;
  if (column == 0) return fmt::format("line {}: {}", line, message);
  return fmt::format("line {}, column {}: {}", line, column, message);
}

}  // namespace seedlog::model
