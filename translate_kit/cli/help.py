"""Help that reads like a person wrote it, for every `tk` command.

A value shows its metavar (`--to LANG`), never typer's Python type (`<list[str]>`); a flag shows
none. `App` is a typer.Typer whose commands and groups use the classes below, so a command added
with `app.command()` gets this help too; the parameter subclasses change only how a parameter is
displayed, never how it parses. Both of typer's renderers (0.29's and 0.26-0.28's) are covered;
why typer < 0.29: docs/design.md#other-choices
"""

from __future__ import annotations

import copy

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from ..errors import first_line
from ..incidents import record


def _range_words(low, high) -> str | None:  # "N [at least 1]", not "N [x>=1]"
    if low is not None and high is not None:
        return f"{low} to {high}"
    return f"at least {low}" if low is not None else (f"at most {high}" if high is not None else None)


class _Option(TyperOption):
    def _label(self) -> str:
        return "" if (self.is_flag or self.count) else (self.metavar or self.name.upper())

    def display_type_rich(self, ctx) -> str | None:  # typer 0.29
        return self._label()

    def make_metavar(self, ctx=None, **kwargs) -> str:  # typer 0.26-0.28
        return self._label()

    def _get_number_range_help_str(self) -> str | None:  # typer 0.29
        return _range_words(getattr(self, "min", None), getattr(self, "max", None))


class _Argument(TyperArgument):
    @property
    def display_name_raw(self) -> str:
        return self.metavar or self.name.upper()

    def display_type_rich(self, ctx) -> str | None:  # typer 0.29
        return None  # the name column says it already

    def _usage_display_name(self) -> str:  # typer 0.29
        label = self.display_name_raw + ("..." if self.nargs != 1 else "")
        return label if self.required else f"[{label}]"

    def make_metavar(self, ctx=None, *, usage: bool = False, **kwargs) -> str:  # typer 0.26-0.28
        return self._usage_display_name() if usage else self.display_name_raw


class _UnnamedType:
    """A parameter type shown as nothing (0.26-0.28 print an argument's type beside its name)."""

    def get_metavar(self, *args, **kwargs) -> str:
        return ""


class _RangeInWords:
    def _describe_range(self) -> str:
        return _range_words(self.min, self.max) or ""


def _retyped(param_type, mixin: type):
    """A copy of `param_type` (click's types are shared singletons) displayed through `mixin`."""
    if isinstance(param_type, mixin):
        return param_type
    shown = copy.copy(param_type)
    shown.__class__ = type(f"Readable{type(param_type).__name__}", (mixin, type(param_type)), {})
    return shown


def _readable(params: list) -> list:
    for param in params:
        if type(param) is TyperOption:
            param.__class__ = _Option
            if hasattr(getattr(param, "type", None), "_describe_range"):  # 0.29's have no click type
                param.type = _retyped(param.type, _RangeInWords)
        elif type(param) is TyperArgument:
            param.__class__ = _Argument
            if getattr(param, "type", None) is not None:
                param.type = _retyped(param.type, _UnnamedType)
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

    def __call__(self, *args, **kwargs):
        """The `tk` console script: an exception no command foresaw is one line and exit 1, its
        traceback in a log file (incidents.py), never on the terminal unless --debug."""
        try:
            return super().__call__(*args, **kwargs)
        except Exception as err:  # SystemExit and KeyboardInterrupt are not Exceptions: they pass
            where = record(err, "running tk")
            typer.echo(f"tk: internal error ({first_line(err)}); please report it with the log {where}", err=True)
            raise SystemExit(1) from None
