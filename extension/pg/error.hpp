// A PostgreSQL ERROR carried as a C++ exception (see guard.hpp for where it is made).
#pragma once

#include <string>

#include "core/error.hpp"

namespace convo::pg {

// An ERROR raised inside PostgreSQL, carried across C++ frames. Nothing but the entry shim
// should catch it for good: the transaction is already broken and must be rolled back by
// re-raising, which the shim does with the same SQLSTATE.
class PgError : public Error {
public:
    PgError(int sqlerrcode, const std::string& message, std::string detail, std::string hint)
        : Error({}, message, std::move(detail), std::move(hint)), sqlerrcode_(sqlerrcode) {}
    // PostgreSQL's packed form of the SQLSTATE (MAKE_SQLSTATE).
    int sqlerrcode() const { return sqlerrcode_; }
    // The five characters, e.g. "57014".
    std::string sqlstate_text() const;

private:
    int sqlerrcode_;
};

}  // namespace convo::pg
