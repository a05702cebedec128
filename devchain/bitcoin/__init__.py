"""A regtest-like Bitcoin chain behind the Esplora REST API subset, for development and tests.

Run it with `python -m devchain.bitcoin --port 0 --port-file F`. See devchain/README.md."""
