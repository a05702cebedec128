"""Kura's local development chains (a development and test tool, never a node for real money).

`devchain.bitcoin`: a regtest-like Bitcoin chain behind the Esplora REST API subset, where every
submitted transaction is checked input by input with btclib's script engine.
`devchain.ethereum`: an Ethereum chain behind JSON-RPC, where py-evm applies (and so checks) every
submitted transaction, with a KUSD test ERC-20 deployed at start-up. See devchain/README.md.
"""
