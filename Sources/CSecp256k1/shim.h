// The only C surface Kura uses: Debian's libsecp256k1 (0.2.x) with the modules we need.
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>
#include <secp256k1_recovery.h>

/// The library's static (verify-only, non-randomised) context is a mutable C global; this accessor
/// keeps Swift 6's strict concurrency checking satisfied. Kura itself uses one randomised context.
static inline const secp256k1_context *csecp_context_static(void) { return secp256k1_context_static; }
