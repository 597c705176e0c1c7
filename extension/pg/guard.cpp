// PostgreSQL ERROR → C++ exception (see guard.hpp).
#include "pg/guard.hpp"

#include <exception>
#include <new>
#include <string>

namespace convo::pg {
namespace {

// PostgreSQL's error-handling globals as they were when the scope began, put back however it
// ends. CurrentMemoryContext is put back only when an exception leaves: on a normal return the
// body may have switched contexts on purpose.
class SavedErrorState {
public:
    SavedErrorState()
        : exception_stack_(PG_exception_stack),
          context_stack_(error_context_stack),
          memory_(CurrentMemoryContext),
          exceptions_at_start_(std::uncaught_exceptions()) {}
    SavedErrorState(const SavedErrorState&) = delete;
    SavedErrorState& operator=(const SavedErrorState&) = delete;
    ~SavedErrorState() {
        restore_stacks();
        if (std::uncaught_exceptions() > exceptions_at_start_) MemoryContextSwitchTo(memory_);
    }
    // What PG_CATCH does before its handler runs.
    void restore_stacks() const {
        PG_exception_stack = exception_stack_;
        error_context_stack = context_stack_;
    }
    MemoryContext memory() const { return memory_; }

private:
    sigjmp_buf* exception_stack_;
    ErrorContextCallback* context_stack_;
    MemoryContext memory_;
    int exceptions_at_start_;
};

// Runs fn(arg) behind a barrier of its own; false if it raised ERROR (then flushed). For the
// calls made while handling an error, which must not longjmp past the C++ frames either.
bool call_flushing_errors(void (*fn)(void*), void* arg) {
    SavedErrorState saved;
    sigjmp_buf buf;
    if (sigsetjmp(buf, 0) == 0) {
        PG_exception_stack = &buf;
        fn(arg);
        return true;
    }
    saved.restore_stacks();
    MemoryContextSwitchTo(saved.memory());
    FlushErrorState();
    return false;
}

// The error being handled, copied into caller (CopyErrorData), then flushed; nullptr if even
// the copy failed (out of memory).
ErrorData* take_error_data(MemoryContext caller) {
    MemoryContextSwitchTo(caller);
    ErrorData* edata = nullptr;
    bool copied = call_flushing_errors([](void* out) { *static_cast<ErrorData**>(out) = CopyErrorData(); },
                                       &edata);
    FlushErrorState();
    return copied ? edata : nullptr;
}

// Copies the error out of PostgreSQL's error state, frees PostgreSQL's copy, throws a PgError.
[[noreturn]] void throw_copied_error(MemoryContext caller) {
    ErrorData* edata = take_error_data(caller);
    if (edata == nullptr)
        throw PgError(ERRCODE_OUT_OF_MEMORY, "out of memory while copying a PostgreSQL error", {}, {});
    int code = edata->sqlerrcode;
    std::string message;
    std::string detail;
    std::string hint;
    bool copied = false;
    try {
        message = edata->message ? edata->message : "unknown PostgreSQL error";
        if (edata->detail) detail = edata->detail;
        if (edata->hint) hint = edata->hint;
        copied = true;
    } catch (const std::bad_alloc&) {
    }
    // Outside the catch: PostgreSQL is not called while an exception is being handled.
    call_flushing_errors([](void* e) { FreeErrorData(static_cast<ErrorData*>(e)); }, edata);
    if (!copied) throw std::bad_alloc();
    throw PgError(code, message, std::move(detail), std::move(hint));
}

}  // namespace

std::string PgError::sqlstate_text() const {
    std::string s(5, '0');
    for (int i = 0; i < 5; ++i) s[i] = static_cast<char>(PGUNSIXBIT(sqlerrcode_ >> (6 * i)));
    return s;
}

void run_guarded(void (*body)(void*), void* arg) {
    SavedErrorState saved;
    sigjmp_buf buf;
    if (sigsetjmp(buf, 0) == 0) {
        PG_exception_stack = &buf;
        body(arg);  // an exception leaving here finds saved's destructor on its way out
        return;
    }
    saved.restore_stacks();
    throw_copied_error(saved.memory());
}

}  // namespace convo::pg
