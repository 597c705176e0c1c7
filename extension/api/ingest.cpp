// SQL API: convo.ingest / convo.ingest_body (in progress).
#include "pg/function.hpp"

using namespace convo;

CONVO_FUNCTION(convo_ingest) {
    (void)fcinfo;
    throw Error(sqlstate::not_supported, "convo.ingest: not built yet");
}

CONVO_FUNCTION(convo_ingest_body) {
    (void)fcinfo;
    throw Error(sqlstate::not_supported, "convo.ingest_body: not built yet");
}
