// Must not compile: guarded takes only callables declared noexcept.
#include "pg/guard.hpp"

void refused() {
    convo::pg::guarded([] { elog(ERROR, "a lambda that is not declared noexcept"); });
}
