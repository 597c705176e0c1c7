// Transaction end callbacks for C++ (see transaction_callbacks.hpp).
#include "pg/transaction_callbacks.hpp"

#include <exception>

#include "pg/guard.hpp"

namespace convo::pg {
namespace {

struct Registration {
    TransactionEndFn on_end;
    SubtransactionEndFn on_subtransaction_end;
    bool xact_registered;
    bool subxact_registered;
};

// A handful of users at most; a fixed table, so registering allocates nothing C++ could lose.
constexpr int kMaxRegistrations = 8;
Registration registrations[kMaxRegistrations];
int registered = 0;

// Runs fn(args...) and reports (after the catch, without throwing) if it threw.
template <class Fn, class... Args>
void run_catching(Fn fn, Args... args) {
    bool threw = false;
    try {
        fn(args...);
    } catch (...) {
        threw = true;
    }
    if (threw) elog(WARNING, "convo: a transaction end callback failed; its state may be stale");
}

extern "C" void convo_on_xact_end(XactEvent event, void* arg) {
    auto* r = static_cast<Registration*>(arg);
    if (r->on_end == nullptr) return;
    switch (event) {
        case XACT_EVENT_COMMIT:
        case XACT_EVENT_PARALLEL_COMMIT:
        case XACT_EVENT_PREPARE:
            run_catching(r->on_end, TransactionEnd::commit);
            break;
        case XACT_EVENT_ABORT:
        case XACT_EVENT_PARALLEL_ABORT:
            run_catching(r->on_end, TransactionEnd::abort);
            break;
        default:
            break;
    }
}

extern "C" void convo_on_subxact_end(SubXactEvent event, SubTransactionId mine, SubTransactionId parent, void* arg) {
    auto* r = static_cast<Registration*>(arg);
    if (r->on_subtransaction_end == nullptr) return;
    if (event == SUBXACT_EVENT_COMMIT_SUB)
        run_catching(r->on_subtransaction_end, TransactionEnd::commit, mine, parent);
    else if (event == SUBXACT_EVENT_ABORT_SUB)
        run_catching(r->on_subtransaction_end, TransactionEnd::abort, mine, parent);
}

}  // namespace

void on_transaction_end(TransactionEndFn on_end, SubtransactionEndFn on_subtransaction_end) {
    Registration* r = nullptr;
    for (int i = 0; i < registered && r == nullptr; ++i)
        if (registrations[i].on_end == on_end && registrations[i].on_subtransaction_end == on_subtransaction_end)
            r = &registrations[i];
    if (r == nullptr) {
        if (registered == kMaxRegistrations)
            throw Error(sqlstate::internal, "convo: too many transaction end callbacks");
        r = &registrations[registered++];
        *r = {on_end, on_subtransaction_end, false, false};
    }
    // Each half is marked once PostgreSQL holds it: a failed registration is retried by the
    // next call, and none is made twice.
    if (!r->xact_registered) {
        guarded([&]() noexcept { RegisterXactCallback(convo_on_xact_end, r); });
        r->xact_registered = true;
    }
    if (!r->subxact_registered) {
        guarded([&]() noexcept { RegisterSubXactCallback(convo_on_subxact_end, r); });
        r->subxact_registered = true;
    }
}

SubTransactionId current_subtransaction_id() { return GetCurrentSubTransactionId(); }

}  // namespace convo::pg
