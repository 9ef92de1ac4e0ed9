"""The ``prospect`` command line: the Typer app (``app``) parses arguments, calls a job
and renders its result (``render``); ``main`` is the console script; ``process`` holds
the one-lead process tricks. Heavy libraries are imported inside the commands, so that
``prospect --help`` loads neither pandas nor numpy.

May import: base, language, config, data, synthetic, monitoring, modeling, explaining,
scoring, registry, reporting, jobs.
"""
