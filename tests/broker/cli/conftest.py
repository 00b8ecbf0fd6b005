"""How the ``broker`` command line tests run it.

``cli``: in this process, through click's CliRunner, which is fast. Any exception that is not
a clean exit (ClickException, usage error, sys.exit) fails the test with its traceback, as the
real command would have printed one. ``broker_process``: ``python -m broker.cli`` in a real
process, only for the few smoke tests that prove the installed command works.

Both see only the ``BROKER_*`` settings a test gives (``broker_env`` by default): none from the
environment pytest runs in. An in-process run must leave no trace on the next one: the
environment and the logging set up by the root group are restored after each run (a process
did that by exiting); the commands close their own database connections."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

import pytest
from click.testing import CliRunner, Result

from broker.cli import cli as broker_command
from tests.conftest import TEST_SECRET


@pytest.fixture
def broker_env(database_url, var_dir) -> dict[str, str]:
    """The settings of a command: this test's database and var/, the secret sealing its keys."""
    return {
        "BROKER_DATABASE_URL": database_url,
        "BROKER_VAR_DIR": str(var_dir),
        "BROKER_KEY_ENCRYPTION_SECRET": TEST_SECRET,
        "BROKER_LOG_FORMAT": "text",
    }


@pytest.fixture
def cli(broker_env) -> Callable[..., Result]:
    """``cli("clients", "list")`` runs ``broker clients list`` in-process and returns click's
    Result (``exit_code``, ``stdout``, ``stderr`` kept apart). ``ok=True`` asserts it exited 0;
    ``env`` replaces ``broker_env`` (every other ``BROKER_*`` variable stays unset)."""
    runner = CliRunner(catch_exceptions=False)

    def run(*args: str, ok: bool = True, env: Mapping[str, str] | None = None) -> Result:
        overrides: dict[str, str | None] = dict.fromkeys(
            (name for name in os.environ if name.startswith("BROKER_")), None
        )
        overrides.update(broker_env if env is None else env)
        environ_before = dict(os.environ)
        try:
            with restored_logging():
                result = runner.invoke(broker_command, list(args), env=overrides)
        finally:
            leaked = environ_changes(environ_before)
            os.environ.clear()
            os.environ.update(environ_before)
        assert not leaked, f"`broker {' '.join(args)}` changed os.environ: {leaked}"
        if ok:
            assert result.exit_code == 0, result.stderr
        return result

    return run


@pytest.fixture
def broker_process(broker_env) -> Callable[..., subprocess.CompletedProcess[str]]:
    """``broker_process("db", "upgrade")`` runs ``python -m broker.cli db upgrade`` in a real
    process; ``ok`` and ``env`` as for ``cli``."""

    def run(
        *args: str, ok: bool = True, env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("BROKER_")}
        environ.update(broker_env if env is None else env)
        result = subprocess.run(
            [sys.executable, "-m", "broker.cli", *args],
            env=environ,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if ok:
            assert result.returncode == 0, result.stderr
        return result

    return run


def environ_changes(before: Mapping[str, str]) -> dict[str, tuple[str | None, str | None]]:
    after = dict(os.environ)
    return {
        name: (before.get(name), after.get(name))
        for name in before.keys() | after.keys()
        if before.get(name) != after.get(name)
    }


@contextmanager
def restored_logging() -> Iterator[None]:
    """The root group's configure_logging() replaces the root logger's handlers (pytest's
    included) by one writing to the sys.stderr of that moment, a stream CliRunner discards
    afterwards, and sets logger levels: put all of it back."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {
        name: logger.level
        for name, logger in logging.Logger.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    }
    try:
        yield
    finally:
        for handler in root.handlers:
            if handler not in handlers:
                handler.close()
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, logger in list(logging.Logger.manager.loggerDict.items()):
            if isinstance(logger, logging.Logger):
                logger.setLevel(levels.get(name, logging.NOTSET))
