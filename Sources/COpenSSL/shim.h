#ifndef SYNDICAST_COPENSSL_SHIM_H
#define SYNDICAST_COPENSSL_SHIM_H
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#endif
