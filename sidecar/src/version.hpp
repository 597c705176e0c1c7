// The sidecar's version, as /health reports it.
#pragma once

namespace convo::sidecar {

inline constexpr const char* version = "0.1.0";

}  // namespace convo::sidecar
