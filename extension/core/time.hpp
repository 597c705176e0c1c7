// Time as the core sees it: microseconds since the Unix epoch, UTC.
#pragma once

#include <cstdint>
#include <optional>

namespace convo {

using Micros = std::int64_t;
using OptionalMicros = std::optional<Micros>;

inline constexpr Micros kMicrosPerSecond = 1'000'000;
inline constexpr Micros kMicrosPerHour = 3600 * kMicrosPerSecond;

}  // namespace convo
