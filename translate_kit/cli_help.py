"""Help that reads like a person wrote it, for every `tk` command.

typer (0.29) labels each parameter in `--help` with its Python type (`--quiet <bool>`,
`paths... <list[str]>`) and writes required arguments as `{paths}...` in the usage line. Our
commands say what a value is with a metavar (`--to LANG`, `--out DIR`) and the help text; flags
take no value and show none; arguments read `PATH...` (`[NAME]...` when optional).

`App` is a typer.Typer whose commands and groups use the classes below, so a command added with
`app.command()` gets the same help without doing anything. The parameters typer builds are given
subclasses that only change how they are displayed, never how they parse.
"""

from __future__ import annotations

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption


class _Option(TyperOption):
    def display_type_rich(self, ctx) -> str | None:
        if self.is_flag or self.count:
            return ""
        return self.metavar or self.name.upper()

    def _get_number_range_help_str(self) -> str | None:  # "N [at least 1]", not "N [x>=1]"
        low, high = getattr(self, "min", None), getattr(self, "max", None)
        if low is not None and high is not None:
            return f"{low} to {high}"
        return f"at least {low}" if low is not None else (f"at most {high}" if high is not None else None)


class _Argument(TyperArgument):
    @property
    def display_name_raw(self) -> str:
        return self.metavar or self.name.upper()

    def display_type_rich(self, ctx) -> str | None:
        return None  # the name column says it already

    def _usage_display_name(self) -> str:
        label = self.display_name_raw + ("..." if self.nargs != 1 else "")
        return label if self.required else f"[{label}]"


def _readable(params: list) -> list:
    for param in params:
        if type(param) is TyperOption:
            param.__class__ = _Option
        elif type(param) is TyperArgument:
            param.__class__ = _Argument
    return params


class _Readable:
    def get_params(self, ctx):
        return _readable(super().get_params(ctx))  # the help option included; the usage line reads these too


class Command(_Readable, TyperCommand):
    pass


class Group(_Readable, TyperGroup):
    pass


class App(typer.Typer):
    """typer.Typer whose groups and commands print readable help (see the module docstring)."""

    def __init__(self, **kwargs):
        super().__init__(cls=kwargs.pop("cls", Group), **kwargs)

    def command(self, *args, cls=None, **kwargs):
        return super().command(*args, cls=cls or Command, **kwargs)
