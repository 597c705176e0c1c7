// Crossing the PostgreSQL/C++ boundary, in both directions.
//
// PostgreSQL reports errors with a longjmp; C++ with exceptions. Neither may cross the other's
// frames: a longjmp skips C++ destructors, an exception unwinding into C code breaks the
// backend. So:
//   * every call from C++ into PostgreSQL that may raise ERROR goes through guarded(), which
//     turns the ERROR into a convo::pg::PgError exception;
//   * every SQL-callable function is declared with CONVO_FUNCTION (function.hpp), which turns
//     any exception back into ERROR once no C++ object is alive.
#pragma once

#include "core/error.hpp"
#include "pg/postgres.hpp"

namespace convo::pg {

// An ERROR raised inside PostgreSQL, carried across C++ frames. Only the entry shim may catch
// it: the transaction is already broken and must be rolled back by re-raising.
class PgError : public Error {
public:
    PgError(int sqlerrcode, std::string message, std::string detail, std::string hint)
        : Error({}, message, std::move(detail), std::move(hint)), sqlerrcode_(sqlerrcode) {}
    int sqlerrcode() const { return sqlerrcode_; }

private:
    int sqlerrcode_;
};

// Copies the error out of PostgreSQL's error state and throws it as a PgError.
[[noreturn]] void throw_copied_error(MemoryContext caller_context);

// Runs f, which calls into PostgreSQL. f must own nothing with a destructor (a longjmp may
// leave it); it hands results back through references it captured.
template <class F>
void guarded(F&& f) {
    MemoryContext caller_context = CurrentMemoryContext;
    volatile bool failed = false;
    PG_TRY();
    {
        f();
    }
    PG_CATCH();
    {
        failed = true;
    }
    PG_END_TRY();
    if (failed) throw_copied_error(caller_context);
}

}  // namespace convo::pg
