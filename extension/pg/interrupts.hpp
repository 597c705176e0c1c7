// Cancellation for long C++ work: a cancel request (pg_cancel_backend, statement_timeout) is
// only acted on where the backend checks for it, and C++ loops that do not call PostgreSQL
// never do unless they call this.
#pragma once

namespace convo::pg {

// CHECK_FOR_INTERRUPTS, guarded: a pending cancel comes back as a PgError with SQLSTATE 57014
// (a termination as 57P01), which unwinds the C++ frames and is raised again at the entry.
void check_for_interrupts();

}  // namespace convo::pg
