"""The faucet's key: a fixed, publicly known test key (never use it for real money). The faucet signs
ordinary EIP-1559 transactions with py-evm's transaction builder; the chain checks them like any
other. It holds the genesis allocation, deploys the KUSD test token (its nonce 0) and is its minter."""
from __future__ import annotations

import hashlib

import rlp
from eth_keys import keys
from eth_utils import keccak, to_checksum_address

KEY = keys.PrivateKey(hashlib.sha256(b"kura devchain ethereum faucet: a public test key, never for real money").digest())
ADDRESS = KEY.public_key.to_canonical_address()
CHECKSUM_ADDRESS = to_checksum_address(ADDRESS)
GENESIS_BALANCE = 10**9 * 10**18  # one billion ether


def created_address(sender: bytes, nonce: int) -> bytes:
    """The address of the contract a CREATE transaction of `sender` with `nonce` deploys."""
    return keccak(rlp.encode([sender, nonce]))[12:]


TOKEN_ADDRESS = created_address(ADDRESS, 0)  # the faucet's first transaction deploys the token
