// C++ functions run at the end of every transaction and subtransaction of the backend.
//
// PostgreSQL calls them from its commit and abort paths, where an ERROR would be fatal to the
// transaction's cleanup (and after commit, a PANIC): the C-linkage callbacks registered here run
// the C++ functions inside a catch-all, and an exception only leaves a WARNING behind.
#pragma once

#include "pg/declarations.hpp"

namespace convo::pg {

enum class TransactionEnd { commit, abort };

// The top-level transaction ended (a PREPARE counts as commit: its work is no longer ours).
using TransactionEndFn = void (*)(TransactionEnd end);
// A subtransaction ended: committed into parent, or rolled back.
using SubtransactionEndFn = void (*)(TransactionEnd end, SubTransactionId mine, SubTransactionId parent);

// Registers the pair once per backend (later calls with the same pair do nothing). Either may
// be null.
void on_transaction_end(TransactionEndFn on_end, SubtransactionEndFn on_subtransaction_end);

// The current subtransaction's id (the top level's is 1).
SubTransactionId current_subtransaction_id();

}  // namespace convo::pg
