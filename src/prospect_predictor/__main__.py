"""`python -m prospect_predictor`: the CLI with a normal interpreter exit, so that tools
wrapping the module (cProfile, coverage) still write their output; the installed
`prospect` script (cli.main.run) skips the teardown after one lead."""

from prospect_predictor.cli.main import main

if __name__ == "__main__":  # not when a worker process imports it (jobs/parallel.py)
    main()
