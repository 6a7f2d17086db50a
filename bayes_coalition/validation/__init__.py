"""Validation: SBC statistics and runners, rolling-origin backtest, H1/H2 comparison."""
