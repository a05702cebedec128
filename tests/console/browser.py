"""A small Selenium harness around Debian's headless Chromium for the console's browser tests, and a static HTTP
server that answers with the console's security headers (for pages the tests make themselves).

Debian's `chromium` and `chromium-driver` packages only (`make deps` installs both): the driver's path is given,
so Selenium Manager never runs (and SE_OFFLINE=true forbids it to download anything if it ever did). A missing
browser or driver fails the test with a message saying so; nothing is skipped.

Console errors are read from Chrome's own log (`goog:loggingPrefs` browser=ALL), where every Content Security
Policy or Trusted Types violation appears as a SEVERE entry ("Refused to ...", "This document requires
'TrustedHTML' assignment ..."): nothing is injected into the page to watch for them.
"""
import base64
import http.server
import os
import pathlib
import shutil
import socketserver
import tempfile
import threading
import time

CHROMIUM = pathlib.Path("/usr/bin/chromium")
CHROMEDRIVER = pathlib.Path("/usr/bin/chromedriver")

# The console's headers (docs: /work/notes/console-contract.md, served by `kura serve` on every console response).
CONSOLE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
               "font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; "
               "require-trusted-types-for 'script'; trusted-types 'none'")
CONSOLE_HEADERS = {
    "Content-Security-Policy": CONSOLE_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "publickey-credentials-get=(self), publickey-credentials-create=(self)",
}

CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8", ".json": "application/json", ".svg": "image/svg+xml",
                 ".png": "image/png", ".txt": "text/plain; charset=utf-8", ".ico": "image/x-icon"}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def require_browser():
    """Raises (the test fails) when Debian's chromium or chromedriver is missing."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not os.access(p, os.X_OK)]
    if missing:
        raise RuntimeError(f"{' and '.join(missing)} missing: the console's browser tests need Debian's chromium and "
                           "chromium-driver packages (`make deps` installs them: apt-get install chromium chromium-driver)")


class Browser:
    """One headless Chromium driven by Debian's chromedriver, with its own throw-away profile."""

    def __init__(self, name: str = "browser", lang: str = "en-US"):
        require_browser()
        os.environ["SE_OFFLINE"] = "true"  # Selenium Manager (never called: the driver path is given) may not download
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self.name = name
        self.profile = tempfile.mkdtemp(prefix="kura-console-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1366,900",
                    f"--lang={lang}", "--no-first-run", "--disable-background-networking", "--disable-gpu",
                    "--disable-features=Translate,OptimizationHints,MediaRouter",
                    f"--user-data-dir={self.profile}"):
            options.add_argument(arg)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self._driver_log = open(pathlib.Path(self.profile) / "chromedriver.log", "wb")
        service = Service(executable_path=str(CHROMEDRIVER), log_output=self._driver_log)
        try:
            self.driver = webdriver.Chrome(service=service, options=options)
        except Exception:
            self._driver_log.close()
            log = (pathlib.Path(self.profile) / "chromedriver.log").read_text(errors="replace")[-2000:]
            shutil.rmtree(self.profile, ignore_errors=True)
            raise RuntimeError(f"{self.name}: {CHROMEDRIVER} could not start {CHROMIUM}; chromedriver's log ends:\n{log}")
        self.driver.set_script_timeout(30)
        self._log: list[dict] = []     # every browser log entry read so far
        self._problems: list[str] = []  # the SEVERE ones not yet taken by take_errors()

    # Navigation and page access.

    def open(self, url: str):
        self.driver.get(url)

    def wait_for(self, css: str, timeout: float = 10, visible: bool = True):
        """The first element matching `css` once it exists (and is displayed, unless visible=False)."""
        from selenium.common.exceptions import TimeoutException
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec
        from selenium.webdriver.support.ui import WebDriverWait

        condition = (ec.visibility_of_element_located if visible else ec.presence_of_element_located)((By.CSS_SELECTOR, css))
        try:
            return WebDriverWait(self.driver, timeout).until(condition)
        except TimeoutException:
            raise AssertionError(f"{self.name}: no {'visible ' if visible else ''}element {css!r} after {timeout} s "
                                 f"on {self.driver.current_url}; console: {self.errors()}") from None

    def click(self, css: str, timeout: float = 10):
        from selenium.webdriver.support import expected_conditions as ec
        from selenium.webdriver.support.ui import WebDriverWait

        element = self.wait_for(css, timeout)
        WebDriverWait(self.driver, timeout).until(ec.element_to_be_clickable(element))
        element.click()
        return element

    def fill(self, css: str, text: str, timeout: float = 10):
        element = self.wait_for(css, timeout)
        element.clear()
        element.send_keys(text)
        return element

    def text(self, css: str, timeout: float = 10) -> str:
        """The rendered text of the first element matching `css` (waits until it is displayed)."""
        return self.wait_for(css, timeout).text

    def run(self, script: str, *args):
        """Runs `script` (a function body) in the page; for tests, not for the console itself."""
        return self.driver.execute_script(script, *args)

    def run_async(self, script: str, *args):
        """Runs `script` with a callback as its last argument (arguments[arguments.length - 1])."""
        return self.driver.execute_async_script(script, *args)

    def screenshot(self, path) -> pathlib.Path:
        """The whole viewport as a PNG file."""
        path = pathlib.Path(path)
        if not self.driver.save_screenshot(str(path)):
            raise AssertionError(f"{self.name}: screenshot to {path} failed")
        return path

    def cookies(self) -> list[dict]:
        """Every cookie of the current page's site, HttpOnly ones included (WebDriver sees them; pages do not)."""
        return self.driver.get_cookies()

    # Passkeys: Chrome's WebAuthn virtual authenticator (WebDriver's extension commands).

    def add_passkey_authenticator(self, user_verified: bool = True, consenting: bool = True):
        """A CTAP2 platform authenticator with resident keys and user verification (a passkey)."""
        from selenium.webdriver.common.virtual_authenticator import Protocol, Transport, VirtualAuthenticatorOptions

        self.driver.add_virtual_authenticator(VirtualAuthenticatorOptions(
            protocol=Protocol.CTAP2, transport=Transport.INTERNAL, has_resident_key=True,
            has_user_verification=True, is_user_consenting=consenting, is_user_verified=user_verified))
        return self.driver.virtual_authenticator_id

    def remove_passkey_authenticator(self):
        self.driver.remove_virtual_authenticator()

    def credentials(self) -> list[dict]:
        """The authenticator's credentials: id (bytes), rpId, resident, userHandle (bytes or None),
        privateKey (PKCS#8 DER bytes), signCount."""
        out = []
        for c in self.driver.get_credentials():
            out.append({"id": b64url_decode(c.id), "rpId": c.rp_id, "resident": c.is_resident_credential,
                        "userHandle": b64url_decode(c.user_handle) if c.user_handle else None,
                        "privateKey": b64url_decode(c.private_key), "signCount": c.sign_count})
        return out

    # Console errors.

    def _read_log(self):
        try:
            entries = self.driver.get_log("browser")
        except Exception as e:  # the browser is gone: that is a problem too
            self._problems.append(f"browser log unreadable: {e}")
            return
        for entry in entries:
            self._log.append(entry)
            if entry.get("level") == "SEVERE" or "Content Security Policy" in entry.get("message", "") \
                    or "Refused to" in entry.get("message", ""):
                self._problems.append(f"[{entry.get('source', '?')}] {entry.get('message', '')}")

    def log(self) -> list[dict]:
        """Every browser log entry so far (all levels)."""
        self._read_log()
        return list(self._log)

    def errors(self) -> list[str]:
        """SEVERE console entries (uncaught errors, failed loads, CSP and Trusted Types violations) not yet taken."""
        self._read_log()
        return list(self._problems)

    def take_errors(self) -> list[str]:
        """errors(), then forgets them (a negative control takes the errors it caused on purpose)."""
        out = self.errors()
        self._problems.clear()
        return out

    def assert_clean(self):
        problems = self.errors()
        assert not problems, f"{self.name}: browser console errors:\n" + "\n".join(problems)

    def quit(self):
        try:
            self.driver.quit()
        finally:
            self._driver_log.close()
            shutil.rmtree(self.profile, ignore_errors=True)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        site = self.server.site
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        with site.lock:
            site.requests.append({"method": "GET", "path": self.path, "host": self.headers.get("Host"),
                                  "cookie": self.headers.get("Cookie")})
            route = site.routes.get(path)
        if route is None and site.root is not None:
            file = (site.root / path.lstrip("/")).resolve()
            if file.is_relative_to(site.root) and file.is_file():
                route = (200, CONTENT_TYPES.get(file.suffix, "application/octet-stream"), file.read_bytes(), {})
        if route is None:
            route = (404, "text/plain; charset=utf-8", b"not found\n", {})
        status, content_type, body, extra = route
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in {**site.headers, **extra}.items():
            for value in (v if isinstance(v, list) else [v]):
                self.send_header(k, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    # Threaded: Chromium opens speculative connections that send nothing, which would stall a single thread.
    daemon_threads = True
    allow_reuse_address = True


class StaticSite:
    """A loopback HTTP server answering every response with the console's headers (or `headers`): pages added with
    add(), then files under `root`. Records each request's path, Host and Cookie header."""

    def __init__(self, root=None, headers=None):
        self.root = pathlib.Path(root).resolve() if root else None
        self.headers = dict(CONSOLE_HEADERS if headers is None else headers)
        self.routes: dict[str, tuple] = {}
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.site = self
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def add(self, path: str, body, content_type: str | None = None, status: int = 200, headers=None):
        if isinstance(body, str):
            body = body.encode()
        content_type = content_type or CONTENT_TYPES.get(pathlib.PurePosixPath(path).suffix, "text/html; charset=utf-8")
        with self.lock:
            self.routes[path] = (status, content_type, body, dict(headers or {}))

    def url(self, path: str = "/", host: str = "localhost") -> str:
        return f"http://{host}:{self.port}{path}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def wait_until(predicate, timeout: float = 10, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)
