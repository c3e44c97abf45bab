// Thin shim over curl/curl.h: typed wrappers for what Swift cannot call directly
// (variadic functions, macros). Nothing here holds logic.
#ifndef CCurl_SHIM_H
#define CCurl_SHIM_H
#include <curl/curl.h>

// CURL_GLOBAL_ALL is a compound macro Swift does not import.
static const long CCurl_global_all = CURL_GLOBAL_ALL;

// CURL_ERROR_SIZE: the size of the buffer CURLOPT_ERRORBUFFER writes into.
static const size_t CCurl_error_size = CURL_ERROR_SIZE;

// curl_easy_setopt is variadic; one typed wrapper per argument type we use.
static inline CURLcode CCurl_easy_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode CCurl_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode CCurl_easy_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode CCurl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}
static inline CURLcode CCurl_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}
// CURLOPT_WRITEFUNCTION and CURLOPT_HEADERFUNCTION share this signature.
static inline CURLcode CCurl_easy_setopt_write_callback(CURL *handle, CURLoption option, curl_write_callback value) {
    return curl_easy_setopt(handle, option, value);
}

// curl_easy_getinfo is variadic too.
static inline CURLcode CCurl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}
static inline CURLcode CCurl_easy_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}

// curl_multi_setopt is variadic as well.
static inline CURLMcode CCurl_multi_setopt_long(CURLM *handle, CURLMoption option, long value) {
    return curl_multi_setopt(handle, option, value);
}

// CURLMsg.data is an anonymous union; read the CURLcode out of it here.
static inline CURLcode CCurl_msg_result(const CURLMsg *message) {
    return message->data.result;
}

#endif
