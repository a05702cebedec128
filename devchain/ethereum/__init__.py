"""An Ethereum dev chain (py-evm) behind the standard JSON-RPC subset, for development and tests.

Run it with `python -m devchain.ethereum --port 0 --port-file F`. See devchain/README.md."""
