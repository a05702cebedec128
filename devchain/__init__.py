"""Kura's local development chains (a development and test tool, never a node for real money).

`devchain.bitcoin`: a regtest-like Bitcoin chain behind the Esplora REST API subset, where every
submitted transaction is checked input by input with btclib's script engine. See devchain/README.md.
"""
