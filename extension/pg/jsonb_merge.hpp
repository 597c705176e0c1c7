// Two jsonb objects made one at the byte level: the pairs of both, in jsonb's key order, each
// value copied as it is stored. jsonb_concat does the same by unpacking both documents into a
// tree and serializing it again, which costs more than the rest of a cached context's read.
#pragma once

#include "pg/declarations.hpp"

namespace convo::pg {

// The object with the top-level pairs of a and b (b's value where a key is in both). Both must
// be jsonb objects (not scalars or arrays); raises 22023 otherwise. Palloc'd in the current
// memory context.
Datum merge_objects(Datum a, Datum b);

}  // namespace convo::pg
