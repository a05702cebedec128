"""python -m devchain.ethereum --port 0 --port-file F [--chain-id N] [--block-interval S] [--[no-]automine]
[--state FILE]

Runs the Ethereum dev chain (py-evm) behind JSON-RPC until SIGTERM or SIGINT (then it saves the
state, if --state was given, and exits 0). A development and test tool: see devchain/README.md."""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import signal
import sys
import threading

from . import faucet
from .chain import DEFAULT_CHAIN_ID, Chain, DevError
from .server import DevChainServer

DEFAULT_PORT = 8545  # geth's HTTP-RPC port


def write_atomically(path: pathlib.Path, text: str):
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m devchain.ethereum",
                                description="Kura's Ethereum dev chain (py-evm) behind JSON-RPC (development and tests only).")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 picks a free one)")
    p.add_argument("--port-file", type=pathlib.Path, help="write the port here once listening")
    p.add_argument("--chain-id", type=int, default=DEFAULT_CHAIN_ID, help=f"chain id (default {DEFAULT_CHAIN_ID})")
    p.add_argument("--block-interval", type=float, metavar="SECONDS", help="also mine a block every SECONDS")
    p.add_argument("--automine", action=argparse.BooleanOptionalAction, default=None,
                   help="mine each accepted transaction at once in a block of its own (default: on, "
                        "off with --block-interval; evm_setAutomine changes it)")
    p.add_argument("--state", type=pathlib.Path, metavar="FILE",
                   help="load the chain from FILE if it exists, and save it there after every change")
    p.add_argument("--verbose", action="store_true", help="log every request")
    args = p.parse_args(argv)
    if args.block_interval is not None and args.block_interval <= 0:
        p.error("--block-interval must be positive")
    if not 1 <= args.chain_id < 2**64:
        p.error("--chain-id must be in 1..2^64-1")
    automine = args.automine if args.automine is not None else args.block_interval is None

    try:
        if args.state is not None and args.state.exists():
            chain = Chain.from_state(json.loads(args.state.read_text()), args.chain_id)
            if args.automine is not None:
                chain.automine = args.automine
        else:
            chain = Chain(args.chain_id, automine)
    except (DevError, ValueError) as e:
        print(f"devchain: {e}", file=sys.stderr)
        return 2

    save_lock = threading.Lock()

    def save():
        if args.state is None:
            return
        with save_lock:
            write_atomically(args.state, json.dumps(chain.to_state()))

    server = DevChainServer((args.host, args.port), chain, on_change=save, verbose=args.verbose)
    save()
    port = server.server_address[1]
    if args.port_file is not None:
        write_atomically(args.port_file, f"{port}\n")
    print(f"devchain: Ethereum JSON-RPC at http://{args.host}:{port} (chain id {chain.chain_id}, block "
          f"{chain.height}, automine {'on' if chain.automine else 'off'}, faucet {faucet.CHECKSUM_ADDRESS}, "
          f"KUSD token {faucet.TOKEN_ADDRESS.hex()}; development and tests only)", file=sys.stderr, flush=True)

    stop = threading.Event()

    def stop_serving(signum, frame):
        stop.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop_serving)
    signal.signal(signal.SIGINT, stop_serving)

    timer = None
    if args.block_interval is not None:
        def mine_on_timer():
            while not stop.wait(args.block_interval):
                try:
                    chain.mine(1)
                    save()
                except Exception as e:  # keep mining; say why this block failed
                    print(f"devchain: timer: {type(e).__name__}: {e}", file=sys.stderr, flush=True)

        timer = threading.Thread(target=mine_on_timer, name="devchain-timer", daemon=True)
        timer.start()

    server.serve_forever(poll_interval=0.2)
    stop.set()
    if timer is not None:
        timer.join()
    server.server_close()
    save()
    print("devchain: stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
