// PostgreSQL ERROR → C++ exception, for calls from C++ into PostgreSQL.
//
// PostgreSQL reports errors with a longjmp; C++ with exceptions. Neither may cross the other's
// frames: a longjmp skips C++ destructors, an exception unwinding into C code leaves the
// backend's error state behind. So:
//   * every call from C++ into PostgreSQL that may raise ERROR goes through guarded(), which
//     turns the ERROR into a convo::pg::PgError exception;
//   * every SQL-callable function is declared with CONVO_FUNCTION (entry.hpp), which turns any
//     exception back into ERROR once no C++ object is alive.
// Only files under extension/pg include this header (it brings PostgreSQL's headers).
#pragma once

#include <type_traits>

#include "pg/error.hpp"
#include "pg/postgres.hpp"

namespace convo::pg {

// Runs body(arg) behind a sigsetjmp barrier. A PostgreSQL ERROR raised inside comes back as a
// PgError (memory context back to the caller's, error state copied and flushed). Whatever way
// body leaves, PG_exception_stack and error_context_stack are what they were; if it leaves by
// a C++ exception (which guarded's noexcept rule should make impossible), CurrentMemoryContext
// is restored too before the exception goes on.
void run_guarded(void (*body)(void*), void* arg);

// Runs f, which calls into PostgreSQL. f must be declared noexcept (a C++ exception must not
// leave a PG_TRY body) and own nothing with a destructor (a longjmp leaves it without
// unwinding); it hands results back through references it captured.
template <class F>
void guarded(F&& f) {
    static_assert(std::is_nothrow_invocable_v<F&>,
                  "pg::guarded runs only noexcept callables: write [&]() noexcept { ... }");
    run_guarded([](void* p) { (*static_cast<std::remove_reference_t<F>*>(p))(); }, &f);
}

namespace testing {
// guarded without the noexcept rule, so that a test can prove what happens when an exception
// leaves the barrier anyway. Nothing but the boundary tests may call it.
template <class F>
void guarded_unchecked(F&& f) {
    run_guarded([](void* p) { (*static_cast<std::remove_reference_t<F>*>(p))(); }, &f);
}
}  // namespace testing

}  // namespace convo::pg
