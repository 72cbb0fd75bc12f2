"""Narwhal's models: train, score and backtest them as jobs; their metrics, stored predictions,
backtest results and artifacts (queries); live predictions (a subscription on the predictions
topic)."""
