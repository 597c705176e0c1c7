// PostgreSQL ERROR → C++ exception.
#include "pg/guard.hpp"

#include <string>

namespace convo::pg {

void throw_copied_error(MemoryContext caller_context) {
    // Error processing switched to ErrorContext; copy the data out before flushing it.
    MemoryContextSwitchTo(caller_context);
    ErrorData* edata = CopyErrorData();
    FlushErrorState();
    int code = edata->sqlerrcode;
    std::string message = edata->message ? edata->message : "unknown PostgreSQL error";
    std::string detail = edata->detail ? edata->detail : "";
    std::string hint = edata->hint ? edata->hint : "";
    FreeErrorData(edata);
    throw PgError(code, std::move(message), std::move(detail), std::move(hint));
}

}  // namespace convo::pg
