// The broker's view of hiredis: the RESP command formatter and reply reader only (no hiredis networking).
//
// Debian 12 ships hiredis 0.14 (RESP2 only); hiredis >= 1.0 adds RESP3 reply types and fields
// (`dval`, `vtype`). The helpers below hide that difference so the Swift side compiles against either.
#ifndef BROKER_CHIREDIS_SHIM_H
#define BROKER_CHIREDIS_SHIM_H

#include <stdlib.h>
#include <hiredis/hiredis.h>

// RESP3 reply types, as numbered by hiredis >= 1.0 (never produced by 0.14's reader).
#ifndef REDIS_REPLY_DOUBLE
#define REDIS_REPLY_DOUBLE 7
#endif
#ifndef REDIS_REPLY_BOOL
#define REDIS_REPLY_BOOL 8
#endif
#ifndef REDIS_REPLY_MAP
#define REDIS_REPLY_MAP 9
#endif
#ifndef REDIS_REPLY_SET
#define REDIS_REPLY_SET 10
#endif
#ifndef REDIS_REPLY_ATTR
#define REDIS_REPLY_ATTR 11
#endif
#ifndef REDIS_REPLY_PUSH
#define REDIS_REPLY_PUSH 12
#endif
#ifndef REDIS_REPLY_BIGNUM
#define REDIS_REPLY_BIGNUM 13
#endif
#ifndef REDIS_REPLY_VERB
#define REDIS_REPLY_VERB 14
#endif

/// The value of a RESP3 double reply. hiredis >= 1.0 parses it into `dval`; `str` holds its text in any version.
static inline double chiredis_reply_double(const redisReply *reply) {
#if HIREDIS_MAJOR >= 1
    return reply->dval;
#else
    return reply->str != NULL ? strtod(reply->str, NULL) : 0.0;
#endif
}

/// The format of a RESP3 verbatim string ("txt", "mkd"), or "" where hiredis does not record it.
static inline const char *chiredis_reply_verbatim_type(const redisReply *reply) {
#if HIREDIS_MAJOR >= 1
    return reply->vtype;
#else
    (void)reply;
    return "";
#endif
}

/// The reader's error message, meaningful once a reader call has returned REDIS_ERR.
static inline const char *chiredis_reader_error_message(const redisReader *reader) {
    return reader->errstr;
}

#endif
