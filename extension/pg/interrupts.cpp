// Cancellation for long C++ work (see interrupts.hpp).
#include "pg/interrupts.hpp"

#include "pg/guard.hpp"

namespace convo::pg {

void check_for_interrupts() {
    // The unguarded test is one load of a flag: most calls find nothing pending.
    if (!INTERRUPTS_PENDING_CONDITION()) return;
    guarded([]() noexcept { CHECK_FOR_INTERRUPTS(); });
}

}  // namespace convo::pg
