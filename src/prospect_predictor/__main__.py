from prospect_predictor.cli import main

main()
