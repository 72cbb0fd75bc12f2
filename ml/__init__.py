"""narwhal: features, XGBoost training (local or SageMaker), prediction and backtests."""
