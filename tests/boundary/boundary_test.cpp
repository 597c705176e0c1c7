// SQL-callable probes of the C++/PostgreSQL boundary (extension/pg), for tests only: each one
// drives an error across the boundary in one particular way so that a test can check what
// PostgreSQL and the backend see afterwards. Loaded by tests/scenarios/boundary.sh.
#include <csignal>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "pg/entry.hpp"
#include "pg/guard.hpp"
#include "pg/interrupts.hpp"
#include "pg/spi.hpp"
#include "pg/values.hpp"

extern "C" {
#include "storage/proc.h"
}

namespace {

using namespace convo;

// Objects with destructors, counted: those alive in C++ frames when an ERROR is raised below
// them must all be destroyed once the error has crossed back.
long constructed = 0;
long destroyed = 0;

struct Counted {
    Counted() : text(64, 'x') { ++constructed; }
    Counted(const Counted& other) : text(other.text) { ++constructed; }
    ~Counted() { ++destroyed; }
    std::string text;
};

std::string required_kind(FunctionCallInfo fcinfo) {
    auto kind = pg::arg_text(fcinfo, 0);
    if (!kind) throw Error(sqlstate::null_value, "boundary_test: kind must not be NULL");
    return *kind;
}

pg::KeptPlan divide_by_zero{"SELECT 1 / (random() * 0)::int", 0, {}};

// Raises a PostgreSQL ERROR of the given kind from inside guarded (or from SPI, which guards
// its own calls).
void raise_postgres_error(const std::string& kind) {
    if (kind == "elog") {
        pg::guarded([]() noexcept {
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("boundary_test: raised inside guarded"),
                            errdetail("the detail"), errhint("the hint")));
        });
    } else if (kind == "spi") {
        pg::Spi spi;
        spi.execute(divide_by_zero, /*read_only=*/true);
        spi.finish();
    } else if (kind == "palloc") {  // beyond MaxAllocSize: refused before any allocation
        pg::guarded([]() noexcept { pfree(palloc(Size{1} << 31)); });
    } else if (kind == "palloc_huge") {  // allowed size, but no machine has it: out of memory
        pg::guarded([]() noexcept { pfree(MemoryContextAllocHuge(CurrentMemoryContext, Size{1} << 50)); });
    } else if (kind == "cancel") {  // what the SIGINT handler of pg_cancel_backend records
        QueryCancelPending = true;
        InterruptPending = true;
        for (int i = 0; i < 1000; ++i) pg::check_for_interrupts();
        throw Error(sqlstate::internal, "boundary_test: the pending cancel was not acted on");
    } else {
        throw Error(sqlstate::invalid_parameter, "boundary_test: unknown kind " + kind);
    }
}

// Recurses depth frames, each owning counted objects, then raises.
void raise_below_live_objects(int depth, const std::string& kind) {
    Counted here;
    std::vector<Counted> more(2);
    if (depth == 0)
        raise_postgres_error(kind);
    else
        raise_below_live_objects(depth - 1, kind);
}

[[noreturn]] void throw_error() { throw Error("P0001", "boundary_test: thrown inside guarded"); }

// Reached through a pointer the compiler cannot see through.
void (*volatile thrower)() = throw_error;

extern "C" void escape_context_callback(void*) {}

}  // namespace

// boundary_test.escape_guarded(raise boolean) → text. A C++ exception leaves a guarded body
// (through the test-only escape hatch) after the body pushed an error context callback of its
// own frame and switched memory contexts. With raise, it goes on to the entry shim (ERROR
// P0001); without, it is caught here and the text says whether the error stacks and the
// memory context were put back.
CONVO_FUNCTION(convo_boundary_escape_guarded) {
    bool raise = !pg::arg_is_null(fcinfo, 0) && pg::arg_datum(fcinfo, 0) != 0;
    sigjmp_buf* exception_stack = PG_exception_stack;
    ErrorContextCallback* context_stack = error_context_stack;
    MemoryContext memory = CurrentMemoryContext;
    MemoryContext scratch = nullptr;
    pg::guarded([&]() noexcept {
        scratch = AllocSetContextCreate(CurrentMemoryContext, "boundary escape", ALLOCSET_SMALL_SIZES);
    });
    bool escaped = false;
    try {
        pg::testing::guarded_unchecked([&] {
            ErrorContextCallback callback{error_context_stack, escape_context_callback, nullptr};
            error_context_stack = &callback;
            MemoryContextSwitchTo(scratch);
            thrower();
        });
    } catch (const Error&) {
        if (raise) throw;
        escaped = true;
    }
    std::string report = std::string("escaped=") + (escaped ? "yes" : "no") +
                         " exception_stack=" + (PG_exception_stack == exception_stack ? "restored" : "MOVED") +
                         " error_context_stack=" + (error_context_stack == context_stack ? "restored" : "MOVED") +
                         " memory_context=" + (CurrentMemoryContext == memory ? "restored" : "MOVED");
    pg::guarded([&]() noexcept { MemoryContextDelete(scratch); });
    return pg::text_datum(report);
}

// boundary_test.leave_stack_moved() → ERROR P0001. Throws with PG_exception_stack pointing
// into a frame that is gone, which guarded never allows: the shim must put it back (with a
// WARNING) before raising, or the ERROR would jump into a dead frame.
CONVO_FUNCTION(convo_boundary_leave_stack_moved) {
    static sigjmp_buf nowhere;
    PG_exception_stack = &nowhere;
    throw Error("P0001", "boundary_test: left the exception stack moved");
}

// boundary_test.pg_error(kind text, depth int, catch_it boolean) → text. Raises a PostgreSQL
// ERROR (kind: elog, spi, palloc, palloc_huge, cancel) below depth frames of counted C++
// objects. Without catch_it the ERROR comes back to SQL with its SQLSTATE; with it, the PgError
// is caught here and described ("PgError 53200: out of memory").
CONVO_FUNCTION(convo_boundary_pg_error) {
    std::string kind = required_kind(fcinfo);
    int depth = pg::arg_int4(fcinfo, 1).value_or(3);
    bool catch_it = !pg::arg_is_null(fcinfo, 2) && pg::arg_datum(fcinfo, 2) != 0;
    constructed = destroyed = 0;
    std::string caught;
    try {
        raise_below_live_objects(depth, kind);
    } catch (const pg::PgError& e) {
        if (!catch_it) throw;
        caught = "PgError " + e.sqlstate_text() + ": " + e.what();
    }
    return pg::text_datum(caught.empty() ? "no error" : caught);
}

// boundary_test.counted() → text "constructed/destroyed" of the last pg_error call.
CONVO_FUNCTION(convo_boundary_counted) {
    return pg::text_datum(std::to_string(constructed) + "/" + std::to_string(destroyed));
}

// boundary_test.cpp_out_of_memory(bytes bigint) → ERROR 53200: a C++ allocation that fails.
CONVO_FUNCTION(convo_boundary_cpp_out_of_memory) {
    volatile std::size_t bytes = static_cast<std::size_t>(pg::arg_datum(fcinfo, 0));
    std::vector<char> v;
    v.reserve(bytes);
    v.push_back('x');
    return pg::int8_datum(static_cast<std::int64_t>(v.capacity()));
}

// boundary_test.long_message(n int, piece text) → ERROR 22023 whose message is n times piece
// (default "é", 2 bytes): the shim must cut it on a character boundary.
CONVO_FUNCTION(convo_boundary_long_message) {
    int n = pg::arg_int4(fcinfo, 0).value_or(0);
    std::string piece = pg::arg_text(fcinfo, 1).value_or("é");
    std::string message;
    for (int i = 0; i < n; ++i) message += piece;
    throw Error(sqlstate::invalid_parameter, message, "detail " + message, "hint");
}
