# A package, so that this folder's conftest.py is imported as `console.conftest` and never replaces the module
# `conftest` (tests/conftest.py) that the other test folders import with `from conftest import ...`.
