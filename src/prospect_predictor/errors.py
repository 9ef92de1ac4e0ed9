"""Errors a user can act on.

Anything raised as :class:`ProspectError` is shown by the CLI as a plain message (no
traceback) and ends the command with a non-zero exit status.
"""


class ProspectError(Exception):
    """A problem with the user's input or environment, worded for the user."""

    exit_code = 1


class InputFileError(ProspectError):
    """A data file that cannot be read or does not match its schema."""


class ConfigError(ProspectError):
    """A TOML configuration (schema or pipeline) that is missing or invalid."""


SHOWN_CHARACTERS = 60  # a longer value is quoted by its start and its length
LONG_VALUE = 80


def shown(value: object) -> str:
    """A value as a message quotes it (its repr), a long one cut to its first
    :data:`SHOWN_CHARACTERS` characters with its length: ``'xxxx…' (1,048,576 characters)``,
    so that a 1 MB cell never fills a message, a rejects file's ``problems`` or a terminal."""
    if not isinstance(value, str):
        text = repr(value)
        if len(text) <= LONG_VALUE:
            return text
        value = text
    if len(value) <= LONG_VALUE:
        return repr(value)
    start = repr(value[:SHOWN_CHARACTERS])
    return f"{start[:-1]}…{start[-1]} ({len(value):,} characters)"
