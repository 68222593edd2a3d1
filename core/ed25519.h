/* Ed25519 (RFC 8032, PureEdDSA) over OpenSSL 3 EVP: key pairs, signing and
 * verifying. Keys travel as raw bytes: the 32-byte private key (the RFC's
 * seed) and the 32-byte public key. Nothing here puts key bytes into an
 * error message. */
#ifndef BUSLINE_CORE_ED25519_H
#define BUSLINE_CORE_ED25519_H

#include "core/crypto.h"
#include "core/err.h"

#include <stddef.h>
#include <stdint.h>

#define BL_ED25519_SEED_LEN 32
#define BL_ED25519_PUBLIC_LEN 32
#define BL_ED25519_SIG_LEN 64

/* Draws a new key pair: private key into seed, its public key into pub.
 * Returns 0, or -1 with err (BL_ECRYPTO). */
int bl_ed25519_generate(uint8_t seed[BL_ED25519_SEED_LEN], uint8_t pub[BL_ED25519_PUBLIC_LEN], bl_err *err);

/* Derives the public key of private key seed into pub. Returns 0 or -1. */
int bl_ed25519_public_of(const uint8_t seed[BL_ED25519_SEED_LEN], uint8_t pub[BL_ED25519_PUBLIC_LEN],
                         bl_err *err);

/* Signs the concatenation of parts[0..nparts) (joined into one heap copy,
 * as Ed25519 signs a whole message) with private key seed into sig.
 * Returns 0, or -1 with err. */
int bl_ed25519_sign(const uint8_t seed[BL_ED25519_SEED_LEN], const bl_bytes *parts, size_t nparts,
                    uint8_t sig[BL_ED25519_SIG_LEN], bl_err *err);

/* Verifies sig over the concatenation of parts[0..nparts) under public key
 * pub. Returns 1 when it is valid, 0 when not, -1 with err when the check
 * could not run (out of memory, a public key OpenSSL refuses). */
int bl_ed25519_verify(const uint8_t pub[BL_ED25519_PUBLIC_LEN], const bl_bytes *parts, size_t nparts,
                      const uint8_t sig[BL_ED25519_SIG_LEN], bl_err *err);

#endif
