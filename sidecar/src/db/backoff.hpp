// Capped exponential backoff for reconnecting: first delay, then doubling up to a cap;
// reset once a connection succeeds. Deterministic (no jitter): a handful of connections per
// process, so a thundering herd is not a concern here.
#pragma once

#include <chrono>

namespace convo::sidecar::db {

class Backoff {
public:
    Backoff(std::chrono::milliseconds first, std::chrono::milliseconds cap)
        : first_(first), cap_(cap < first ? first : cap) {}

    // The delay before the next attempt; each call doubles the following one, up to the cap.
    std::chrono::milliseconds next() {
        const auto delay = current_ == std::chrono::milliseconds::zero() ? first_ : current_;
        current_ = delay >= cap_ / 2 ? cap_ : delay * 2;
        return delay;
    }
    void reset() { current_ = std::chrono::milliseconds::zero(); }

private:
    std::chrono::milliseconds first_;
    std::chrono::milliseconds cap_;
    std::chrono::milliseconds current_{0};
};

}  // namespace convo::sidecar::db
