"""Fixtures for the console's browser tests (tests/console/browser.py).

`browser` is one headless Chromium for the whole test module (one start per module keeps the suite fast);
`browser_factory(name)` starts more, independent ones (a second operator: own profile, cookies, passkeys).
After each test that uses them, every browser of the module must have logged no console error (uncaught
exception, failed load, CSP or Trusted Types violation): a test that provokes one on purpose takes it with
`take_errors()`. At the end of the module each browser is checked once more and quit."""
import pytest

from .browser import Browser


class BrowserFactory:
    def __init__(self):
        self.made: list[Browser] = []

    def __call__(self, name: str | None = None, **kwargs) -> Browser:
        browser = Browser(name=name or f"browser-{len(self.made) + 1}", **kwargs)
        self.made.append(browser)
        return browser

    def take_problems(self) -> list[str]:
        return [f"{b.name}: {e}" for b in self.made for e in b.take_errors()]

    def close(self) -> list[str]:
        problems = []
        for b in self.made:
            try:
                problems += [f"{b.name}: {e}" for e in b.take_errors()]
            finally:
                b.quit()
        self.made.clear()
        return problems


@pytest.fixture(scope="module")
def browser_factory():
    factory = BrowserFactory()
    yield factory
    problems = factory.close()
    if problems:
        pytest.fail("browser console errors at the end of the module:\n" + "\n".join(problems), pytrace=False)


@pytest.fixture(scope="module")
def browser(browser_factory) -> Browser:
    return browser_factory("operator-1")


@pytest.fixture(autouse=True)
def _no_browser_console_errors(request):
    yield
    if "browser_factory" in request.fixturenames:
        problems = request.getfixturevalue("browser_factory").take_problems()
        if problems:
            pytest.fail("browser console errors during the test:\n" + "\n".join(problems), pytrace=False)
