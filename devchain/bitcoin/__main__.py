"""python -m devchain.bitcoin --port 0 --port-file F [--block-interval S] [--state FILE]

Runs the regtest dev chain behind the Esplora API until SIGTERM or SIGINT (then it saves the state,
if --state was given, and exits 0). A development and test tool: see devchain/README.md."""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import signal
import sys
import threading

from .chain import Chain, DevError
from .server import DevChainServer

DEFAULT_PORT = 3002  # electrs' default HTTP port on regtest


def write_atomically(path: pathlib.Path, text: str):
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m devchain.bitcoin",
                                description="Kura's regtest dev chain behind the Esplora REST API (development and tests only).")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 picks a free one)")
    p.add_argument("--port-file", type=pathlib.Path, help="write the port here once listening")
    p.add_argument("--block-interval", type=float, metavar="SECONDS", help="also mine a block every SECONDS")
    p.add_argument("--state", type=pathlib.Path, metavar="FILE",
                   help="load the chain from FILE if it exists, and save it there after every change")
    p.add_argument("--verbose", action="store_true", help="log every request")
    args = p.parse_args(argv)
    if args.block_interval is not None and args.block_interval <= 0:
        p.error("--block-interval must be positive")

    try:
        if args.state is not None and args.state.exists():
            chain = Chain.from_state(json.loads(args.state.read_text()))
        else:
            chain = Chain()
    except (DevError, ValueError) as e:
        print(f"devchain: {e}", file=sys.stderr)
        return 2

    save_lock = threading.Lock()

    def save():
        if args.state is None:
            return
        with save_lock:
            state = chain.to_state()
            write_atomically(args.state, json.dumps(state))

    server = DevChainServer((args.host, args.port), chain, on_change=save, verbose=args.verbose)
    save()
    port = server.server_address[1]
    if args.port_file is not None:
        write_atomically(args.port_file, f"{port}\n")
    print(f"devchain: regtest Esplora API at http://{args.host}:{port} (height {chain.height}; "
          f"development and tests only)", file=sys.stderr, flush=True)

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
