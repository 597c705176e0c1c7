// C++ exception → PostgreSQL ERROR, for every SQL-callable function.
#include "pg/function.hpp"

#include <new>

namespace convo::pg {
namespace {

// What the ERROR will say; palloc'd strings only, so nothing needs a destructor.
struct ErrorReport {
    int sqlerrcode = ERRCODE_INTERNAL_ERROR;
    char* message = nullptr;
    char* detail = nullptr;
    char* hint = nullptr;
};

int sqlstate_code(const std::string& s) {
    if (s.size() != 5) return ERRCODE_INTERNAL_ERROR;
    return MAKE_SQLSTATE(s[0], s[1], s[2], s[3], s[4]);
}

char* copy_or_null(const std::string& s) { return s.empty() ? nullptr : pstrdup(s.c_str()); }

// Fills report from the exception in flight. Runs inside a catch block, so it may use C++.
void describe_current_exception(ErrorReport& report) {
    try {
        throw;
    } catch (const PgError& e) {
        report.sqlerrcode = e.sqlerrcode();
        report.message = pstrdup(e.what());
        report.detail = copy_or_null(e.detail());
        report.hint = copy_or_null(e.hint());
    } catch (const Error& e) {
        report.sqlerrcode = sqlstate_code(e.sqlstate());
        report.message = pstrdup(e.what());
        report.detail = copy_or_null(e.detail());
        report.hint = copy_or_null(e.hint());
    } catch (const std::bad_alloc&) {
        report.sqlerrcode = ERRCODE_OUT_OF_MEMORY;
        report.message = pstrdup("convo: out of memory");
    } catch (const std::exception& e) {
        report.message = psprintf("convo: internal error: %s", e.what());
    } catch (...) {
        report.message = pstrdup("convo: internal error: unknown exception");
    }
}

}  // namespace

Datum call_cpp(CppFunction fn, FunctionCallInfo fcinfo) {
    ErrorReport report;
    try {
        return fn(fcinfo);
    } catch (...) {
        describe_current_exception(report);
    }
    // The exception object is gone; only PODs are alive: safe to longjmp from here.
    ereport(ERROR, (errcode(report.sqlerrcode), errmsg_internal("%s", report.message),
                    report.detail ? errdetail_internal("%s", report.detail) : 0,
                    report.hint ? errhint("%s", report.hint) : 0));
    pg_unreachable();
}

}  // namespace convo::pg
