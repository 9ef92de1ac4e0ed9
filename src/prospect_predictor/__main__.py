from prospect_predictor.cli import run

run()
