"""The help texts: every command says what it does, and the options that take a service say
how they find it."""

from __future__ import annotations

import click
import pytest

from broker.cli import cli as broker_command


def commands(group: click.Group, path: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        yield (*path, name), command
        if isinstance(command, click.Group):
            yield from commands(command, (*path, name))


@pytest.mark.parametrize(
    "path, command",
    list(commands(broker_command)),
    ids=lambda v: " ".join(v) if isinstance(v, tuple) else "",
)
def test_every_command_says_what_it_does(path, command):
    assert (command.help or "").strip(), f"`broker {' '.join(path)}` has no help text"


@pytest.mark.parametrize(
    "path", [("clients", "add"), ("clients", "logo"), ("clients", "idps"), ("habilitations", "add")]
)
def test_service_options_say_they_take_an_id_or_a_name(path):
    command = dict(commands(broker_command))[path]
    option = next(p for p in command.params if "--service" in p.opts)
    assert "its id or its name (case, accents and punctuation aside)" in option.help


def test_optional_scopes_are_described_as_opt_in(cli):
    text = " ".join(cli("habilitations", "add", "--help").stdout.split())
    assert "shared only when the citizen ticks them (opt-in)" in text
    assert "untick" not in text.replace("unticked", "")
