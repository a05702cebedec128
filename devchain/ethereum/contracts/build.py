"""Compiles KuraUSD.vy into KuraUSD.json (ABI, deployment bytecode, compiler version) with the pinned
Vyper (requirements.txt: vyper==0.4.3). Run it after changing the contract:

    .venv/bin/python -m devchain.ethereum.contracts.build

The dev chain itself only reads KuraUSD.json (no compiler at run time); tests/devchain checks that
this compiler still produces exactly the committed bytecode."""
from __future__ import annotations

import json
import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
SOURCE = HERE / "KuraUSD.vy"
ARTIFACT = HERE / "KuraUSD.json"


def vyper_path() -> pathlib.Path:
    return pathlib.Path(sys.executable).parent / "vyper"


def compile_token() -> dict:
    """The artifact as the pinned compiler produces it now."""
    vyper = str(vyper_path())
    version = subprocess.run([vyper, "--version"], capture_output=True, check=True, text=True, timeout=120).stdout.strip()
    out = subprocess.run([vyper, "-f", "abi,bytecode", str(SOURCE)], capture_output=True, check=True, text=True,
                         timeout=300, cwd=HERE)
    abi_line, bytecode = out.stdout.strip().splitlines()
    return {"contract": "KuraUSD", "source": SOURCE.name, "compiler": f"vyper {version}",
            "command": f"vyper -f abi,bytecode {SOURCE.name}", "abi": json.loads(abi_line),
            "bytecode": bytecode.strip()}


def main() -> int:
    ARTIFACT.write_text(json.dumps(compile_token(), indent=1) + "\n")
    print(f"wrote {ARTIFACT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
