#!/usr/bin/env bash
# `make run` (until the coordinator exists): a short walkthrough of Kura's key layer.
# Restores the BIP-0039 test mnemonic into a temporary keystore and prints its BIP-0084 and
# BIP-0086 account descriptors and first addresses. Everything lives in a temporary directory
# that is removed at the end; the test mnemonic is public and must never hold funds.
set -euo pipefail
BIN="${KURA_BIN:-.build/release}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
umask 077
printf 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about\n' > "$work/mnemonic"
printf 'walkthrough-passphrase\n' > "$work/passphrase"

echo "== kura-signer init --restore (BIP-0039 test mnemonic, temporary keystore)"
"$BIN/kura-signer" init --home "$work/signer" --network mainnet --restore \
  --mnemonic-file "$work/mnemonic" --passphrase-file "$work/passphrase" --kdf-log-n 15
echo
echo "== kura-signer descriptors --addresses 3"
"$BIN/kura-signer" descriptors --home "$work/signer" --passphrase-file "$work/passphrase" --addresses 3
echo
echo "== kura-signer xpub --path m/84h/0h/0h"
"$BIN/kura-signer" xpub --home "$work/signer" --passphrase-file "$work/passphrase" --path m/84h/0h/0h
echo
echo "The keystore file is encrypted (scrypt + ChaCha20-Poly1305) and was written with mode 0600:"
ls -l "$work/signer/keystore.kura" | awk '{print "  " $1 " " $5 " bytes"}'
