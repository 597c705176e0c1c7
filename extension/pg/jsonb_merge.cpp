// Byte-level merge of two jsonb objects (see jsonb_merge.hpp).
//
// The layout (utils/jsonb.h): a container is a header word (pair count | JB_FOBJECT), one JEntry
// per key then one per value, then the keys' bytes, then the values' bytes. A JEntry holds the
// value's type and its length, or, every JB_OFFSET_STRIDE entries, the end offset of its data.
// Numerics and nested containers start on a 4-byte boundary counted from the start of the
// varlena; the padding before them belongs to their length. A nested container holds nothing
// but offsets relative to itself, so it stays valid wherever it is copied, as long as it lands
// on a 4-byte boundary again.
#include "pg/jsonb_merge.hpp"

#include <cstring>

#include "pg/guard.hpp"

extern "C" {
#include "utils/jsonb.h"
}

namespace convo::pg {
namespace {

struct Source {
    const Jsonb* doc;
    const JsonbContainer* root;
    int pairs;
    const char* data;  // where the keys' bytes start
};

Source source_of(const Jsonb* doc) {
    const JsonbContainer* root = &doc->root;
    int pairs = static_cast<int>(root->header & JB_CMASK);
    return {doc, root, pairs, reinterpret_cast<const char*>(&root->children[2 * pairs])};
}

// jsonb's key order: shorter first, then byte by byte.
int compare_keys(const Source& a, int i, const Source& b, int j) {
    uint32 alen = getJsonbLength(a.root, i);
    uint32 blen = getJsonbLength(b.root, j);
    if (alen != blen) return alen < blen ? -1 : 1;
    return std::memcmp(a.data + getJsonbOffset(a.root, i), b.data + getJsonbOffset(b.root, j), alen);
}

struct Pick {
    const Source* from;
    int index;
};

// Runs inside guarded(): PODs only, palloc and ereport may longjmp out of it.
Jsonb* merge(const Jsonb* a_doc, const Jsonb* b_doc) {
    for (const Jsonb* d : {a_doc, b_doc})
        if (!JB_ROOT_IS_OBJECT(d) || JB_ROOT_IS_SCALAR(d))
            ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                            errmsg("convo: only jsonb objects can be merged")));
    Source a = source_of(a_doc);
    Source b = source_of(b_doc);

    Pick* order = static_cast<Pick*>(palloc(sizeof(Pick) * (a.pairs + b.pairs + 1)));
    int n = 0;
    int i = 0;
    int j = 0;
    while (i < a.pairs || j < b.pairs) {
        int c = i == a.pairs ? 1 : j == b.pairs ? -1 : compare_keys(a, i, b, j);
        if (c < 0) {
            order[n++] = {&a, i++};
        } else {
            if (c == 0) ++i;  // the same key in both: b's value
            order[n++] = {&b, j++};
        }
    }

    // Room for both documents and the padding of every value.
    Size bound = VARSIZE(a_doc) + VARSIZE(b_doc) + static_cast<Size>(n) * (2 * sizeof(JEntry) + 3);
    char* out = static_cast<char*>(palloc0(bound));
    uint32 pos = VARHDRSZ;
    uint32 header = static_cast<uint32>(n) | JB_FOBJECT;
    std::memcpy(out + pos, &header, sizeof(header));
    pos += sizeof(header);
    JEntry* entries = reinterpret_cast<JEntry*>(out + pos);
    pos += static_cast<uint32>(sizeof(JEntry) * 2 * n);
    const uint32 data_start = pos;

    uint32 prev_end = 0;
    for (int e = 0; e < 2 * n; ++e) {
        const Pick& p = order[e % n];
        const Source& s = *p.from;
        int child = e < n ? p.index : s.pairs + p.index;
        JEntry type = s.root->children[child] & JENTRY_TYPEMASK;
        uint32 length = getJsonbLength(s.root, child);
        const char* from = s.data + getJsonbOffset(s.root, child);
        if (type == JENTRY_ISNUMERIC || type == JENTRY_ISCONTAINER) {
            // Drop the source's padding, pad again where the value lands (palloc0: zeros).
            uint32 at = static_cast<uint32>(from - reinterpret_cast<const char*>(s.doc));
            uint32 skip = INTALIGN(at) - at;
            from += skip;
            length -= skip;
            pos = INTALIGN(pos);
        }
        std::memcpy(out + pos, from, length);
        pos += length;
        uint32 end = pos - data_start;
        if (end > JENTRY_OFFLENMASK)
            ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
                            errmsg("convo: merged jsonb object too large")));
        // The length counts the padding in front of the value, as PostgreSQL's own encoder does.
        entries[e] = e % JB_OFFSET_STRIDE == 0 ? (type | end | JENTRY_HAS_OFF) : (type | (end - prev_end));
        prev_end = end;
    }
    SET_VARSIZE(out, pos);
    return reinterpret_cast<Jsonb*>(out);
}

}  // namespace

Datum merge_objects(Datum a, Datum b) {
    Datum d;
    guarded([&]() noexcept { d = JsonbPGetDatum(merge(DatumGetJsonbP(a), DatumGetJsonbP(b))); });
    return d;
}

}  // namespace convo::pg
