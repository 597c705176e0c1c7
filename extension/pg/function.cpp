// C++ exception → PostgreSQL ERROR, for every SQL-callable function (see entry.hpp).
//
// Nothing in a catch block calls PostgreSQL: any PostgreSQL call may raise ERROR, whose
// longjmp would leave the catch with the exception object alive (never destroyed, and the
// C++ runtime's record of the handled exception left behind). The catch only copies the
// exception's text into fixed buffers of the shim's own frame; the ERROR is raised after it.
#include <cstddef>
#include <cstring>
#include <new>

#include "pg/entry.hpp"
#include "pg/guard.hpp"

static_assert(sizeof(convo::pg::FunctionInfoRecord) == sizeof(Pg_finfo_record) &&
                  offsetof(convo::pg::FunctionInfoRecord, api_version) ==
                      offsetof(Pg_finfo_record, api_version),
              "FunctionInfoRecord must have Pg_finfo_record's layout");

namespace convo::pg {
namespace {

// What the ERROR will say: fixed arrays, trivially destructible, nothing allocated. Left
// uninitialized until an exception is caught: every call pays for the frame, not for zeroing it.
struct ErrorReport {
    static constexpr std::size_t kMessageBytes = 4096;
    static constexpr std::size_t kDetailBytes = 2048;
    static constexpr std::size_t kHintBytes = 1024;
    int sqlerrcode;
    char message[kMessageBytes];
    char detail[kDetailBytes];
    char hint[kHintBytes];
};

// Appends s to the NUL-terminated text in buf (cap bytes in all). What does not fit is cut at
// a UTF-8 character boundary and marked with "…", so the result stays valid UTF-8.
void append_truncated(char* buf, std::size_t cap, const char* s, std::size_t len) noexcept {
    static constexpr char kEllipsis[] = "…";
    constexpr std::size_t kEllipsisBytes = sizeof(kEllipsis) - 1;
    std::size_t used = std::strlen(buf);
    std::size_t room = cap - 1 - used;
    if (len > room) {
        if (room < kEllipsisBytes) return;
        std::size_t cut = room - kEllipsisBytes;
        while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
        std::memcpy(buf + used, s, cut);
        std::memcpy(buf + used + cut, kEllipsis, kEllipsisBytes);
        buf[used + cut + kEllipsisBytes] = '\0';
        return;
    }
    std::memcpy(buf + used, s, len);
    buf[used + len] = '\0';
}

template <std::size_t N>
void append(char (&buf)[N], const std::string& s) noexcept {
    append_truncated(buf, N, s.data(), s.size());
}

template <std::size_t N>
void append(char (&buf)[N], const char* s) noexcept {
    append_truncated(buf, N, s, std::strlen(s));
}

// A five-character SQLSTATE in PostgreSQL's packed form; internal_error for anything else.
int sqlstate_code(const std::string& s) noexcept {
    if (s.size() != 5) return ERRCODE_INTERNAL_ERROR;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'))) return ERRCODE_INTERNAL_ERROR;
    return MAKE_SQLSTATE(s[0], s[1], s[2], s[3], s[4]);
}

// Fills report from the exception in flight. Runs inside a catch block: C++ only, no
// allocation, no PostgreSQL call.
void describe_current_exception(ErrorReport& report) noexcept {
    report.sqlerrcode = ERRCODE_INTERNAL_ERROR;
    report.message[0] = report.detail[0] = report.hint[0] = '\0';
    try {
        throw;
    } catch (const PgError& e) {
        report.sqlerrcode = e.sqlerrcode();
        append(report.message, e.what());
        append(report.detail, e.detail());
        append(report.hint, e.hint());
    } catch (const Error& e) {
        report.sqlerrcode = sqlstate_code(e.sqlstate());
        append(report.message, e.what());
        append(report.detail, e.detail());
        append(report.hint, e.hint());
    } catch (const std::bad_alloc&) {
        report.sqlerrcode = ERRCODE_OUT_OF_MEMORY;
        append(report.message, "convo: out of memory");
    } catch (const std::exception& e) {
        append(report.message, "convo: internal error: ");
        append(report.message, e.what());
    } catch (...) {
        append(report.message, "convo: internal error: unknown exception");
    }
}

}  // namespace

Datum call_cpp(CppFunction fn, FunctionCallInfo fcinfo) {
    ErrorReport report;
    sigjmp_buf* exception_stack = PG_exception_stack;
    ErrorContextCallback* context_stack = error_context_stack;
    try {
        return fn(fcinfo);
    } catch (...) {
        describe_current_exception(report);
    }
    // guarded() puts both back however its body ends; should anything still have left them
    // pointing into a frame that is gone, the ERROR below must not longjmp there.
    bool stacks_moved = PG_exception_stack != exception_stack || error_context_stack != context_stack;
    PG_exception_stack = exception_stack;
    error_context_stack = context_stack;
    if (stacks_moved) elog(WARNING, "convo: error handler stack was not restored; restored it");
    // The exception object is gone; only trivially destructible locals are alive.
    ereport(ERROR, (errcode(report.sqlerrcode), errmsg_internal("%s", report.message),
                    report.detail[0] ? errdetail_internal("%s", report.detail) : 0,
                    report.hint[0] ? errhint("%s", report.hint) : 0));
    pg_unreachable();
}

}  // namespace convo::pg
