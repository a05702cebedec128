"""python -m devchain.bitcoin --port 0 --port-file F [--block-interval S] [--state FILE]
                            [--rpc-port P --rpc-port-file F --rpc-user U --rpc-password W --rpc-cookie-file C]

Runs the regtest dev chain behind the Esplora API (and, with --rpc-port, behind a subset of Bitcoin
Core's JSON-RPC on a second port, over the same chain) until SIGTERM or SIGINT (then it saves the
state, if --state was given, and exits 0). A development and test tool: see devchain/README.md."""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import secrets
import signal
import sys
import threading

from . import corerpc
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
    rpc = p.add_argument_group("Bitcoin Core JSON-RPC (off unless --rpc-port is given)")
    rpc.add_argument("--rpc-port", type=int, metavar="P",
                     help="also serve Core's JSON-RPC on port P (0 picks a free one; Core's regtest port is 18443)")
    rpc.add_argument("--rpc-port-file", type=pathlib.Path, metavar="F", help="write the RPC port here once listening")
    rpc.add_argument("--rpc-user", default=corerpc.DEFAULT_RPC_USER,
                     help=f"HTTP basic auth user (default {corerpc.DEFAULT_RPC_USER!r}; dev only)")
    rpc.add_argument("--rpc-password", default=corerpc.DEFAULT_RPC_PASSWORD,
                     help=f"HTTP basic auth password (default {corerpc.DEFAULT_RPC_PASSWORD!r}; dev only)")
    rpc.add_argument("--rpc-cookie-file", type=pathlib.Path, metavar="F",
                     help="also accept __cookie__:<random hex>, written to F as Core's .cookie (removed at exit)")
    args = p.parse_args(argv)
    if args.block_interval is not None and args.block_interval <= 0:
        p.error("--block-interval must be positive")
    if args.rpc_port is None and (args.rpc_port_file is not None or args.rpc_cookie_file is not None):
        p.error("--rpc-port-file and --rpc-cookie-file need --rpc-port")
    if args.rpc_port is not None and ":" in args.rpc_user:
        p.error("--rpc-user must not contain ':'")

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
    rpc_server = None
    if args.rpc_port is not None:
        credentials = [(args.rpc_user, args.rpc_password)]
        if args.rpc_cookie_file is not None:
            cookie = (corerpc.COOKIE_USER, secrets.token_hex(32))
            credentials.append(cookie)
        rpc_server = corerpc.CoreRpcServer((args.host, args.rpc_port), chain, credentials, on_change=save,
                                           verbose=args.verbose)
        if args.rpc_cookie_file is not None:
            tmp = args.rpc_cookie_file.with_name(args.rpc_cookie_file.name + ".tmp")
            tmp.touch(mode=0o600)
            tmp.write_text(f"{cookie[0]}:{cookie[1]}")
            os.replace(tmp, args.rpc_cookie_file)
    save()
    port = server.server_address[1]
    if rpc_server is not None:
        rpc_port = rpc_server.server_address[1]
        corerpc.serve_in_thread(rpc_server)
        if args.rpc_port_file is not None:
            write_atomically(args.rpc_port_file, f"{rpc_port}\n")
        print(f"devchain: regtest Bitcoin Core JSON-RPC at http://{args.host}:{rpc_port} (user {args.rpc_user!r}"
              f"{', cookie ' + str(args.rpc_cookie_file) if args.rpc_cookie_file else ''})", file=sys.stderr, flush=True)
    if args.port_file is not None:
        write_atomically(args.port_file, f"{port}\n")
    print(f"devchain: regtest Esplora API at http://{args.host}:{port} (height {chain.height}; "
          f"development and tests only)", file=sys.stderr, flush=True)

    stop = threading.Event()

    def stop_serving(signum, frame):
        stop.set()
        threading.Thread(target=server.shutdown, daemon=True).start()
        if rpc_server is not None:
            threading.Thread(target=rpc_server.shutdown, daemon=True).start()

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
    if rpc_server is not None:
        rpc_server.shutdown()
        rpc_server.server_close()
        if args.rpc_cookie_file is not None:
            args.rpc_cookie_file.unlink(missing_ok=True)
    save()
    print("devchain: stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
