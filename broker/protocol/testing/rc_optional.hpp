// RapidCheck generators for std::optional (Debian's RapidCheck snapshot has none). Tests only.
#pragma once

#include <optional>
#include <utility>

#include <rapidcheck.h>

namespace rc {

template <class T>
struct Arbitrary<std::optional<T>> {
  static Gen<std::optional<T>> arbitrary() {
    return gen::oneOf(gen::just(std::optional<T>()),
                      gen::map(gen::arbitrary<T>(),
                               [](T v) { return std::optional<T>(std::move(v)); }));
  }
};

}  // namespace rc
