"""Reading `kura-devtool chain …` outcomes, for the chain adapter tests: success, or a refusal with its ChainError code
(exit status by code, one `kura-devtool: error: CODE: REASON` line on stderr, nothing on stdout)."""

EXIT = {"rejected": 65, "notFound": 66, "unavailable": 69, "invalidResponse": 76}


def ok(proc) -> str:
    assert proc.returncode == 0, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stderr == b"", proc.stderr
    return proc.stdout.decode()


def refused(proc, code: str, secret: str | None = None) -> str:
    """The reason of a refusal with ChainError code `code`; `secret` (a credential) must appear nowhere."""
    err = proc.stderr.decode()
    assert proc.returncode == EXIT[code], (proc.returncode, proc.stdout, err)
    assert proc.stdout == b"", proc.stdout
    prefix = f"kura-devtool: error: {code}: "
    assert err.startswith(prefix) and err.endswith("\n") and err.count("\n") == 1, err
    assert secret is None or secret not in err
    return err[len(prefix):]
