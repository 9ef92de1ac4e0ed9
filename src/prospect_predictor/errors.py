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
